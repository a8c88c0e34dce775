"""The coding_course project package. Importing it loads the Celery app so that
``@shared_task`` functions bind to it."""

from coding_course.celery import app as celery_app

__all__ = ("celery_app",)
