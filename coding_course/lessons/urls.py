from django.urls import path

from coding_course.lessons import views

app_name = "lessons"

urlpatterns = [
    path("", views.course_list_view, name="course_list"),
    path("<slug:course_slug>/", views.course_detail_view, name="course_detail"),
    path("<slug:course_slug>/enrol/", views.enrol_view, name="enrol"),
    path("<slug:course_slug>/<slug:lesson_slug>/", views.lesson_detail_view, name="lesson_detail"),
    path(
        "<slug:course_slug>/<slug:lesson_slug>/complete/",
        views.lesson_complete_view,
        name="lesson_complete",
    ),
    path(
        "<slug:course_slug>/<slug:lesson_slug>/practice/<int:position>/",
        views.practice_answer_view,
        name="practice_answer",
    ),
]
