from django.urls import path

from codesets import views

app_name = "codesets"

urlpatterns = [
    path("", views.search_view, name="search"),
    path("api/search", views.search_api_view, name="search_api"),
    path("<str:system>/<str:code>/", views.code_detail_view, name="code_detail"),
]
