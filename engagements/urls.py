from __future__ import annotations

from django.urls import path

from . import ops_views, views

app_name = "engagements"

urlpatterns = [
    path("", views.my_work, name="my-work"),
    path("engagements/", views.engagement_list, name="engagement-list"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("engagements/<int:engagement_id>/", views.engagement_detail, name="engagement-detail"),
    path(
        "engagements/<int:engagement_id>/template/",
        views.engagement_template,
        name="engagement-template",
    ),
    path(
        "engagements/<int:engagement_id>/template/apply/",
        views.engagement_template_apply,
        name="engagement-template-apply",
    ),
    path(
        "engagements/<int:engagement_id>/export/matrix.csv",
        views.export_matrix,
        name="export-matrix",
    ),
    path(
        "engagements/<int:engagement_id>/export/events.csv",
        views.export_events,
        name="export-events",
    ),
    path("tasks/<int:task_id>/", views.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/transition/", views.task_transition, name="task-transition"),
    path("tasks/<int:task_id>/sign-off/", views.task_sign_off, name="task-sign-off"),
    path("tasks/<int:task_id>/reopen/", views.task_reopen, name="task-reopen"),
    path("tasks/<int:task_id>/comments/", views.task_comment, name="task-comment"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.notification_read_all, name="notifications-read-all"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification-preferences",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification-read",
    ),
    # Operations after go-live
    path("engagements/<int:engagement_id>/updates/", ops_views.cycles, name="cycles"),
    path("updates/<int:cycle_id>/", ops_views.cycle_detail, name="cycle-detail"),
    path("updates/<int:cycle_id>/<slug:action>/", ops_views.cycle_action, name="cycle-action"),
    path("engagements/<int:engagement_id>/handover/", ops_views.handover, name="handover"),
    path(
        "handovers/<int:handover_id>/invitation.ics",
        ops_views.handover_ics,
        name="handover-ics",
    ),
    path(
        "handovers/<int:handover_id>/<slug:action>/",
        ops_views.handover_action,
        name="handover-action",
    ),
    path("engagements/<int:engagement_id>/duties/", ops_views.duties, name="duties"),
    path("duties/<int:duty_id>/<slug:action>/", ops_views.duty_action, name="duty-action"),
    path("engagements/<int:engagement_id>/tokens/", ops_views.token_create, name="token-create"),
    path("tokens/<int:token_id>/revoke/", ops_views.token_revoke, name="token-revoke"),
    path(
        "api/engagements/<int:engagement_id>/attestations/",
        ops_views.api_attestations,
        name="api-attestations",
    ),
    path("engagements/<int:engagement_id>/issues/", ops_views.issues, name="issues"),
    path("issues/<int:issue_id>/", ops_views.issue_detail, name="issue-detail"),
    path("issues/<int:issue_id>/<slug:action>/", ops_views.issue_action, name="issue-action"),
    path("calendar/", ops_views.calendar, name="calendar"),
    path("calendar/feed.ics", ops_views.calendar_feed, name="calendar-feed"),
    path("checklists/<int:checklist_id>/", views.checklist_detail, name="checklist-detail"),
    path("checklists/<int:checklist_id>/save/", views.checklist_save, name="checklist-save"),
    path("checklists/<int:checklist_id>/review/", views.checklist_review, name="checklist-review"),
]
