from __future__ import annotations

from django.urls import path

from .views import (
    api,
    calendar,
    chat,
    checklists,
    cycles,
    duties,
    engagements,
    exports,
    handover,
    issues,
    membership,
    mywork,
    notifications,
    tasks,
    templates,
)

app_name = "engagements"

urlpatterns = [
    path("", mywork.my_work, name="my-work"),
    path("admin-home/", mywork.admin_home, name="admin-home"),
    path("engagements/", engagements.engagement_list, name="engagement-list"),
    path("engagements/new/", engagements.engagement_new, name="engagement-new"),
    path("portfolio/", engagements.portfolio, name="portfolio"),
    path(
        "engagements/<int:engagement_id>/", engagements.engagement_detail, name="engagement-detail"
    ),
    path(
        "engagements/<int:engagement_id>/timeline/",
        engagements.engagement_timeline,
        name="engagement-timeline",
    ),
    path(
        "engagements/<int:engagement_id>/template/",
        templates.engagement_template,
        name="engagement-template",
    ),
    path(
        "engagements/<int:engagement_id>/template/apply/",
        templates.engagement_template_apply,
        name="engagement-template-apply",
    ),
    path(
        "engagements/<int:engagement_id>/export/matrix.csv",
        exports.export_matrix,
        name="export-matrix",
    ),
    path(
        "engagements/<int:engagement_id>/export/events.csv",
        exports.export_events,
        name="export-events",
    ),
    # Members and invitations
    path("engagements/<int:engagement_id>/members/", membership.members, name="members"),
    path(
        "engagements/<int:engagement_id>/members/invite/",
        membership.member_invite,
        name="member-invite",
    ),
    path("memberships/<int:membership_id>/change/", membership.member_change, name="member-change"),
    path("memberships/<int:membership_id>/remove/", membership.member_remove, name="member-remove"),
    path(
        "invitations/<int:invitation_id>/<slug:action>/",
        membership.invitation_action,
        name="invitation-action",
    ),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/transition/", tasks.task_transition, name="task-transition"),
    path("tasks/<int:task_id>/sign-off/", tasks.task_sign_off, name="task-sign-off"),
    path("tasks/<int:task_id>/reopen/", tasks.task_reopen, name="task-reopen"),
    path(
        "tasks/<int:task_id>/override-order/",
        tasks.task_override_order,
        name="task-override-order",
    ),
    path("tasks/<int:task_id>/comments/", tasks.task_comment, name="task-comment"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/chat/", chat.chat_personal, name="chat-personal"),
    path("engagements/<int:engagement_id>/chat/", chat.chat_channels, name="chat-channels"),
    path("chat-channels/<int:channel_id>/remove/", chat.chat_channel_remove, name="chat-remove"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notifications-read-all",
    ),
    path(
        "notifications/preferences/",
        notifications.notification_preferences,
        name="notification-preferences",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
    # Operations after go-live
    path("engagements/<int:engagement_id>/updates/", cycles.cycles, name="cycles"),
    path("updates/<int:cycle_id>/", cycles.cycle_detail, name="cycle-detail"),
    path("updates/<int:cycle_id>/<slug:action>/", cycles.cycle_action, name="cycle-action"),
    path("engagements/<int:engagement_id>/handover/", handover.handover, name="handover"),
    path(
        "handovers/<int:handover_id>/invitation.ics",
        handover.handover_ics,
        name="handover-ics",
    ),
    path(
        "handovers/<int:handover_id>/<slug:action>/",
        handover.handover_action,
        name="handover-action",
    ),
    path("engagements/<int:engagement_id>/duties/", duties.duties, name="duties"),
    path("duties/<int:duty_id>/<slug:action>/", duties.duty_action, name="duty-action"),
    path("engagements/<int:engagement_id>/tokens/", duties.token_create, name="token-create"),
    path("tokens/<int:token_id>/revoke/", duties.token_revoke, name="token-revoke"),
    path(
        "api/engagements/<int:engagement_id>/attestations/",
        api.api_attestations,
        name="api-attestations",
    ),
    path("engagements/<int:engagement_id>/issues/", issues.issues, name="issues"),
    path("issues/<int:issue_id>/", issues.issue_detail, name="issue-detail"),
    path("issues/<int:issue_id>/<slug:action>/", issues.issue_action, name="issue-action"),
    path("calendar/", calendar.calendar, name="calendar"),
    path("calendar/feed.ics", calendar.calendar_feed, name="calendar-feed"),
    path("checklists/<int:checklist_id>/", checklists.checklist_detail, name="checklist-detail"),
    path("checklists/<int:checklist_id>/save/", checklists.checklist_save, name="checklist-save"),
    path(
        "checklists/<int:checklist_id>/review/",
        checklists.checklist_review,
        name="checklist-review",
    ),
]
