"""The Celery app. Configuration comes from Django settings (``CELERY_`` prefix)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_course.settings.local")

app = Celery("coding_course")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Installed apps plus the project package itself (home of the health task).
app.autodiscover_tasks()
app.autodiscover_tasks(["coding_course"])
