"""The Celery app. Configuration comes from Django settings (``CELERY_`` prefix)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_course.settings.local")

app = Celery("coding_course")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Installed apps plus the project package itself (home of the health task).
app.autodiscover_tasks()
app.autodiscover_tasks(["coding_course"])
# Each worker requeues pending bulk chunks when it (re)connects to the broker. Named by
# path: the step is loaded when a worker starts, after Django is set up.
app.steps["consumer"].add("quizzes.tasks:RequeuePendingChunks")
