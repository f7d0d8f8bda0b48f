from __future__ import annotations

from django.urls import path

from . import views

app_name = "engagements"

urlpatterns = [
    path("", views.my_work, name="my-work"),
    path("engagements/", views.engagement_list, name="engagement-list"),
    path("engagements/<int:engagement_id>/", views.engagement_detail, name="engagement-detail"),
]
