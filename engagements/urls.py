from __future__ import annotations

from django.urls import path

from . import views

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
    path("checklists/<int:checklist_id>/", views.checklist_detail, name="checklist-detail"),
    path("checklists/<int:checklist_id>/save/", views.checklist_save, name="checklist-save"),
    path("checklists/<int:checklist_id>/review/", views.checklist_review, name="checklist-review"),
]
