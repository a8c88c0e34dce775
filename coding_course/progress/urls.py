from django.urls import path

from coding_course.progress import views

app_name = "progress"

urlpatterns = [
    path("", views.my_progress_view, name="mine"),
    path("learners/", views.group_list_view, name="group_list"),
    path("groups/<int:group_id>/", views.group_detail_view, name="group_detail"),
    path(
        "groups/<int:group_id>/students/<int:student_id>/remove",
        views.group_student_remove_view,
        name="group_student_remove",
    ),
    path("learners/<int:learner_id>/", views.learner_progress_view, name="learner"),
]
