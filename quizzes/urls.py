"""The quizzes URLs: quizzes, attempts and authoring under ``/quizzes/`` (namespace
``quizzes``), bulk jobs under ``/bulk/`` (namespace ``bulk``)."""

from django.urls import include, path

quizzes_patterns = [
    path("", include("quizzes.attempts.urls")),
    path("", include("quizzes.encounters.urls")),
]

urlpatterns = [
    path("quizzes/", include((quizzes_patterns, "quizzes"))),
    path("bulk/", include("quizzes.bulk.urls")),
]
