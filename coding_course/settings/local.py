"""Development: DEBUG on, console e-mail, SQLite and in-process tasks unless set."""

import os

os.environ.setdefault("DEBUG", "true")

from coding_course.settings.base import *  # noqa: F403

# The dev server serves static files straight from the app folders and the
# xstatic package, so a change shows without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
