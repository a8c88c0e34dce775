from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "coding_course.lessons"
    label = "lessons"
    verbose_name = "Lessons and learning paths"
