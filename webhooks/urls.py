from __future__ import annotations

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("engagements/<int:engagement_id>/webhooks/", views.endpoints, name="endpoints"),
    path("webhooks/<int:endpoint_id>/", views.endpoint_detail, name="endpoint"),
    path("webhooks/<int:endpoint_id>/enable/", views.endpoint_enable, name="endpoint-enable"),
    path("webhooks/<int:endpoint_id>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path(
        "webhooks/deliveries/<int:delivery_id>/replay/",
        views.delivery_replay,
        name="delivery-replay",
    ),
]
