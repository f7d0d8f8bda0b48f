from __future__ import annotations

from django.urls import path

from . import views

app_name = "raci"

urlpatterns = [
    path("templates/", views.template_list, name="template-list"),
    path("compare/", views.compare_versions, name="compare"),
    path("versions/<int:version_id>/", views.version_detail, name="version-detail"),
    path("versions/<int:version_id>/draft/", views.start_draft, name="start-draft"),
    path("versions/<int:version_id>/publish/", views.publish, name="publish"),
    path("versions/<int:version_id>/toggle/", views.toggle_letter, name="toggle-letter"),
    path("versions/<int:version_id>/cell/", views.set_cell, name="set-cell"),
    path("versions/<int:version_id>/tasks/add/", views.add_task, name="add-task"),
    path("versions/<int:version_id>/tasks/update/", views.update_task, name="update-task"),
    path("versions/<int:version_id>/tasks/remove/", views.remove_task, name="remove-task"),
    path("versions/<int:version_id>/tasks/move/", views.move_task, name="move-task"),
    path("versions/<int:version_id>/parties/add/", views.add_party, name="add-party"),
    path(
        "versions/<int:version_id>/prerequisites/add/",
        views.add_prerequisite,
        name="add-prerequisite",
    ),
    path(
        "versions/<int:version_id>/prerequisites/remove/",
        views.remove_prerequisite,
        name="remove-prerequisite",
    ),
    path("versions/<int:version_id>/parties/remove/", views.remove_party, name="remove-party"),
    path("versions/<int:version_id>/checklist/add/", views.add_requirement, name="add-requirement"),
    path(
        "versions/<int:version_id>/checklist/update/",
        views.update_requirement,
        name="update-requirement",
    ),
    path(
        "versions/<int:version_id>/checklist/remove/",
        views.remove_requirement,
        name="remove-requirement",
    ),
    path(
        "versions/<int:version_id>/checklist/move/",
        views.move_requirement,
        name="move-requirement",
    ),
]
