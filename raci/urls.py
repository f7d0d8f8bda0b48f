from __future__ import annotations

from django.urls import path

from . import views

app_name = "raci"

urlpatterns = [
    path("templates/", views.template_list, name="template-list"),
    path("versions/<int:version_id>/", views.version_detail, name="version-detail"),
]
