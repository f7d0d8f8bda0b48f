from __future__ import annotations

from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("pk", "engagement", "url", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    exclude = ("secret",)
    readonly_fields = ("engagement", "url", "kinds", "created_by", "failing_since", "disabled_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("message_id", "endpoint", "attempts", "response_code", "delivered_at")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
