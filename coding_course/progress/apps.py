from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "coding_course.progress"
    label = "progress"
    verbose_name = "Learner progress"
