from django.urls import path

from quizzes.bulk import views

app_name = "bulk"

urlpatterns = [
    path("", views.bulk_home_view, name="home"),
    path("rescore", views.bulk_rescore_view, name="rescore"),
    path("quizzes/<int:quiz_id>/", views.bulk_quiz_view, name="quiz"),
    path("quizzes/<int:quiz_id>/import", views.bulk_import_view, name="import"),
    path("jobs/<int:job_id>/", views.bulk_job_detail_view, name="job_detail"),
    path("jobs/<int:job_id>/progress", views.bulk_job_progress_view, name="job_progress"),
    path("jobs/<int:job_id>/changes.csv", views.bulk_job_changes_csv_view, name="job_changes_csv"),
    path("jobs/<int:job_id>/cancel", views.bulk_job_cancel_view, name="job_cancel"),
    path("jobs/<int:job_id>/apply", views.bulk_job_apply_view, name="job_apply"),
]
