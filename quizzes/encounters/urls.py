"""Authoring URLs; names live in the ``quizzes`` namespace (see ``quizzes.urls``)."""

from django.urls import path

from quizzes.encounters import views

urlpatterns = [
    path("author/", views.author_home_view, name="author_home"),
    path("author/encounters/new", views.encounter_edit_view, name="encounter_new"),
    path("author/encounters/<slug:slug>/edit", views.encounter_edit_view, name="encounter_edit"),
    path(
        "author/encounters/<slug:slug>/exercises",
        views.encounter_exercises_view,
        name="encounter_exercises",
    ),
    path(
        "author/encounters/<slug:slug>.yaml", views.encounter_export_view, name="encounter_export"
    ),
]
