"""The project's URLs plus one view that fails, to see the production error page."""

from django.urls import path

from coding_course.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def broken_view(request):
    raise RuntimeError("secret internal detail 0xDEADBEEF")


urlpatterns = [*urlpatterns, path("__broken__", broken_view)]
