"""Settings for the Celery worker processes the bulk integration tests start.

The project's settings plus what a test needs to see failures quickly, each switched
by the worker's environment:

* a short visibility timeout, restored every second, so messages of a worker killed
  with SIGKILL come back in seconds rather than an hour
  (``BULK_TEST_VISIBILITY_TIMEOUT``);
* short retry backoff;
* ``BULK_TEST_RECOVER_ON_CONNECT=0`` turns off the requeue-on-connect recovery, so
  a test shows what the broker's acknowledgement alone does;
* ``BULK_TEST_EARLY_ACK=1`` acknowledges the chunk task on receipt and does not
  reject it when its worker dies: the negative control, which must lose chunks.
"""

import os

from coding_course.settings.local import *  # noqa: F403
from coding_course.settings.local import env_bool

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("BULK_TEST_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
BULK_RETRY_BACKOFF_SECONDS = 0.2
BULK_RECOVER_ON_CONNECT = env_bool("BULK_TEST_RECOVER_ON_CONNECT", True)
if env_bool("BULK_TEST_EARLY_ACK", False):
    # Task annotations override the options given in the task decorator.
    CELERY_TASK_ANNOTATIONS = {
        "quizzes.tasks.bulk_score_chunk": {"acks_late": False, "reject_on_worker_lost": False}
    }
