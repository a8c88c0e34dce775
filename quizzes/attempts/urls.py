"""Quiz, attempt and gradebook URLs; names live in the ``quizzes`` namespace (see
``quizzes.urls``)."""

from django.urls import path

from quizzes.attempts import views

urlpatterns = [
    path("", views.quiz_list_view, name="quiz_list"),
    path("<int:quiz_id>/", views.quiz_detail_view, name="quiz_detail"),
    path("attempts/<int:attempt_id>/", views.attempt_take_view, name="attempt_take"),
    path(
        "attempts/<int:attempt_id>/items/<int:item_id>/save",
        views.response_save_view,
        name="response_save",
    ),
    path(
        "attempts/<int:attempt_id>/items/<int:item_id>/check",
        views.response_check_view,
        name="response_check",
    ),
    path("attempts/<int:attempt_id>/submit", views.attempt_submit_view, name="attempt_submit"),
    path("attempts/<int:attempt_id>/review", views.attempt_review_view, name="attempt_review"),
    path("<int:quiz_id>/gradebook", views.gradebook_view, name="gradebook"),
    path("<int:quiz_id>/gradebook.csv", views.gradebook_csv_view, name="gradebook_csv"),
    path(
        "responses/<int:response_id>/override",
        views.score_override_view,
        name="score_override",
    ),
    path("author/quizzes/new", views.quiz_manage_view, name="quiz_new"),
    path("author/quizzes/<int:quiz_id>/", views.quiz_manage_view, name="quiz_manage"),
]
