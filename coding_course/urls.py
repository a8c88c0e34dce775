from django.contrib import admin
from django.urls import include, path

from coding_course import views

urlpatterns = [
    path("", views.home_view, name="home"),
    path("healthz", views.healthz_view, name="healthz"),
    path("accounts/", include("coding_course.accounts.urls")),
    path("codes/", include("codesets.urls")),
    path("", include("quizzes.urls")),
    path("learn/", include("coding_course.lessons.urls")),
    path("progress/", include("coding_course.progress.urls")),
    path("assessments/", include("coding_course.assessments.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "coding_course.views.error_403_view"
handler404 = "coding_course.views.error_404_view"
handler500 = "coding_course.views.error_500_view"
