from django.urls import path

from coding_course.assessments import views

app_name = "assessments"

urlpatterns = [
    # Hiring managers (organisation-scoped)
    path("", views.assessment_list_view, name="home"),
    path("new/", views.assessment_create_view, name="create"),
    path("<int:assessment_id>/", views.assessment_detail_view, name="detail"),
    path("<int:assessment_id>/invite", views.candidate_invite_view, name="invite"),
    path("<int:assessment_id>/invite-list", views.candidate_invite_list_view, name="invite_list"),
    path(
        "<int:assessment_id>/candidates/<int:candidate_id>/resend",
        views.candidate_resend_view,
        name="resend",
    ),
    path(
        "<int:assessment_id>/candidates/<int:candidate_id>/accommodation",
        views.candidate_accommodation_view,
        name="accommodation",
    ),
    path(
        "<int:assessment_id>/candidates/<int:candidate_id>/report",
        views.candidate_report_view,
        name="candidate_report",
    ),
    path("<int:assessment_id>/score", views.cohort_score_view, name="score_cohort"),
    path("<int:assessment_id>/rescore-preview", views.rescore_preview_view, name="rescore_preview"),
    path("<int:assessment_id>/results", views.results_view, name="results"),
    path("<int:assessment_id>/results.csv", views.results_csv_view, name="results_csv"),
    # Candidates
    path("invitations/<str:signed>/", views.invitation_view, name="invitation"),
    path("mine/", views.my_assessments_view, name="mine"),
    path("sittings/<int:candidate_id>/", views.sitting_view, name="sitting"),
    path("sittings/<int:candidate_id>/take", views.sitting_take_view, name="sitting_take"),
    path("sittings/<int:candidate_id>/events", views.sitting_event_view, name="sitting_event"),
    path("sittings/<int:candidate_id>/submit", views.sitting_submit_view, name="sitting_submit"),
]
