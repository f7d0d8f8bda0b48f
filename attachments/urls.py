from __future__ import annotations

from django.urls import path

from . import views

app_name = "attachments"

urlpatterns = [
    path("attachments/task/<int:task_id>/", views.attach_to_task, name="task-upload"),
    path(
        "attachments/checklist/<int:checklist_id>/",
        views.attach_to_checklist_item,
        name="checklist-upload",
    ),
    path("attachments/issue/<int:issue_id>/", views.attach_to_issue, name="issue-upload"),
    path(
        "attachments/handover/<int:handover_id>/",
        views.attach_to_handover,
        name="handover-upload",
    ),
    path("attachments/<int:attachment_id>/", views.download, name="download"),
    path("attachments/<int:attachment_id>/remove/", views.remove, name="remove"),
]
