from __future__ import annotations

from django.contrib import admin

from .models import (
    ChecklistRequirement,
    Party,
    RaciTemplate,
    TemplateCell,
    TemplateTask,
    TemplateVersion,
    VersionParty,
)


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ["name", "is_vendor"]
    list_filter = ["is_vendor"]
    search_fields = ["name"]


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "status", "published_at", "published_by"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False


@admin.register(RaciTemplate)
class RaciTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [VersionInline]


class ColumnInline(admin.TabularInline):
    model = VersionParty
    extra = 0


class TaskInline(admin.TabularInline):
    model = TemplateTask
    fields = ["position", "name", "is_optional", "tracking", "due_offset_days"]
    extra = 0
    show_change_link = True


class RequirementInline(admin.TabularInline):
    """Shown, not edited here: the template editor checks an item's definition."""

    model = ChecklistRequirement
    fields = ["position", "key", "label", "kind", "required", "min_value", "max_value"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "number", "status", "created_at", "published_at", "published_by"]
    list_filter = ["status", "template"]
    search_fields = ["template__name"]
    list_select_related = ["template", "published_by"]
    readonly_fields = ["created_at", "created_by", "published_at", "published_by"]
    inlines = [ColumnInline, TaskInline, RequirementInline]


class CellInline(admin.TabularInline):
    model = TemplateCell
    fields = [
        "party",
        "responsible",
        "accountable",
        "consulted",
        "informed",
        "condition",
        "role_title",
    ]
    extra = 0


@admin.register(TemplateTask)
class TemplateTaskAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "version", "tracking", "is_optional", "letters_summary"]
    list_display_links = ["name"]
    list_filter = ["version__template", "version", "tracking", "is_optional"]
    search_fields = ["name", "notes", "description"]
    list_select_related = ["version__template"]
    ordering = ["version", "position"]
    inlines = [CellInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("cells__party")

    @admin.display(description="Letters")
    def letters_summary(self, obj: TemplateTask) -> str:
        return " | ".join(f"{c.party.name}: {c.cell_text()}" for c in obj.cells.all())


@admin.register(TemplateCell)
class TemplateCellAdmin(admin.ModelAdmin):
    list_display = [
        "task",
        "party",
        "responsible",
        "accountable",
        "consulted",
        "informed",
        "condition",
        "role_title",
    ]
    list_filter = ["party", "responsible", "accountable", "consulted", "informed", "task__version"]
    search_fields = ["task__name", "role_title", "condition"]
    list_select_related = ["task__version__template", "party"]
