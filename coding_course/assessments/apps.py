from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "coding_course.assessments"
    label = "assessments"
    verbose_name = "Employer assessments"
