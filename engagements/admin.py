from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from engagements.actions.engagements import (
    check_new_engagement,
    create_engagement,
    engagement_move_verdict,
    move_engagement,
)
from engagements.actions.membership import (
    add_member,
    check_manager_rule,
    check_membership,
    clean_roles,
    remove_member,
)
from engagements.errors import DomainError

from .models import (
    Attestation,
    AttestationToken,
    Engagement,
    EngagementTask,
    Event,
    Handover,
    Issue,
    Membership,
    Organization,
    Profile,
    StandingDuty,
    TaskParty,
    UpdateCycle,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "email_delivery", "portal_delivery"]

    def get_readonly_fields(self, request, obj=None):
        # A person's organisation decides the parties they may join: it is set once.
        return ["organization"] if obj else []

    list_filter = ["organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


class MembershipInline(admin.TabularInline):
    model = Membership

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("user", "party").prefetch_related("roles")
        )

    fields = ["user", "party", "role_list", "is_manager"]
    readonly_fields = fields

    @admin.display(description="roles")
    def role_list(self, obj) -> str:
        return ", ".join(obj.role_titles)

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # through the Membership admin, so permissions are derived


class EngagementForm(forms.ModelForm):
    """Creating goes through create_engagement; a state change through move_engagement
    (the engagement's state machine and the policy), never a raw edit."""

    state_reason = forms.CharField(
        required=False,
        label="Reason for the state change",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Closing or reopening an engagement needs a reason (it goes in the audit trail).",
    )
    actor = None  # set per request by EngagementAdmin.get_form

    class Meta:
        model = Engagement
        fields = [
            "organization",
            "name",
            "template_version",
            "environments",
            "kickoff_date",
            "state",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None and not self.errors:
            before = Engagement.objects.get(pk=self.instance.pk)
            if data.get("state") != before.state:
                verdict = engagement_move_verdict(
                    before, data["state"], actor=self.actor, reason=data.get("state_reason", "")
                )
                if verdict:
                    raise forms.ValidationError({"state": verdict})
        if self.instance.pk is None and not self.errors:
            try:
                check_new_engagement(
                    organization=data["organization"],
                    name=data["name"],
                    version=data["template_version"],
                )
            except DomainError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    form = EngagementForm
    list_display = [
        "name",
        "organization",
        "state",
        "template_version",
        "kickoff_date",
        "created_at",
    ]
    list_filter = ["state", "organization", "template_version__template"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization", "template_version__template"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # Tasks are copied once, at creation, for the environments chosen then: the version
        # changes only by applying a newer one. The subscriber is fixed too: its people's memberships depend on it. A new
        # engagement starts onboarding.
        if obj:
            return ["organization", "template_version", "environments", "created_at", "created_by"]
        return ["created_at", "created_by", "state"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change) -> None:
        if change:
            to = obj.state
            obj.state = Engagement.objects.values_list("state", flat=True).get(pk=obj.pk)
            super().save_model(request, obj, form, change)
            if to != obj.state:
                move_engagement(
                    obj, to=to, actor=request.user, reason=form.cleaned_data.get("state_reason", "")
                )
                obj.state = to
            return
        created = create_engagement(
            organization=obj.organization,
            name=obj.name,
            version=obj.template_version,
            kickoff_date=obj.kickoff_date,
            actor=request.user,
            environments=obj.environments,
        )
        obj.pk = created.pk
        obj.created_at = created.created_at


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["engagement", "user", "party", "is_manager"]

    role_titles = forms.CharField(
        required=False,
        label="Roles",
        help_text="The named roles of the party held, one per line "
        '(e.g. "Auth0 Customer Success Engineer").',
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    actor = None  # the admin user, set by MembershipAdmin.get_form

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                check_manager_rule(self.actor, "member.invite", data["engagement"], data["party"])
                check_membership(data["engagement"], data["user"], party=data["party"])
                data["roles"] = clean_roles(
                    data["engagement"], data["party"], data["role_titles"].splitlines()
                )
            except DomainError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "engagement", "party", "role_list", "is_manager"]
    list_filter = ["party", "is_manager", "engagement__organization"]
    search_fields = ["user__username", "engagement__name", "roles__title"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description="roles")
    def role_list(self, obj) -> str:
        return ", ".join(obj.role_titles)

    list_select_related = ["user", "engagement__organization", "party"]
    autocomplete_fields = ["user", "engagement"]

    def save_model(self, request, obj, form, change) -> None:
        membership = add_member(
            obj.engagement,
            obj.user,
            party=obj.party,
            roles=form.cleaned_data.get("roles", []),
            is_manager=obj.is_manager,
            actor=request.user,
        )
        obj.pk = membership.pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def delete_model(self, request, obj) -> None:
        self._remove(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        """Bulk "delete selected": each membership through the service, so the person's
        object permissions go with it and the removal is an event; one the rules refuse
        (not a manager, the last manager of a party) stays, with the reason shown."""
        for membership in queryset.select_related("engagement", "user"):
            self._remove(request, membership)

    def _remove(self, request, membership) -> None:
        try:
            remove_member(membership.engagement, membership.user, actor=request.user)
        except DomainError as exc:
            self.message_user(request, f"{membership}: {exc}", level=messages.ERROR)

    def has_change_permission(self, request, obj=None) -> bool:
        return False if obj else super().has_change_permission(request, obj)


class TaskPartyInline(admin.TabularInline):
    model = TaskParty

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("party")

    fields = [
        "party",
        "responsible",
        "accountable",
        "consulted",
        "informed",
        "condition",
        "role_title",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(EngagementTask)
class EngagementTaskAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "environment", "engagement", "status", "due_date"]
    list_display_links = ["name"]
    list_filter = ["status", "environment", "tracking", "engagement__organization"]
    search_fields = ["name", "engagement__name", "engagement__organization__name"]
    list_select_related = ["engagement__organization"]
    # Status moves go through the workflow (with its events), never a raw edit here.
    readonly_fields = [
        "engagement",
        "template_task",
        "status",
        "blocked_reason",
        "revision",
        "updated_at",
    ]
    inlines = [TaskPartyInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "engagement", "task", "actor", "verb", "from_state", "to_state"]
    list_filter = ["verb", "engagement__organization"]
    search_fields = ["verb", "engagement__name", "task__name", "actor__username"]
    list_select_related = ["engagement__organization", "task", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Operations: read-only here; every change goes through the portal's services (an actor,
# an event, the notifications). The admin is for looking things up.


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UpdateCycle)
class UpdateCycleAdmin(ReadOnlyAdmin):
    list_display = ["release", "engagement", "state", "created_at", "override_at"]
    list_filter = ["state"]
    search_fields = ["release", "engagement__name", "engagement__organization__name"]
    list_select_related = ["engagement__organization"]


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ["engagement", "starts_at", "duration_minutes", "state", "sequence"]
    list_filter = ["state"]
    list_select_related = ["engagement__organization"]


@admin.register(StandingDuty)
class StandingDutyAdmin(ReadOnlyAdmin):
    list_display = [
        "engagement",
        "kind",
        "cadence_days",
        "grace_days",
        "due_at",
        "last_attested_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["engagement__organization"]


@admin.register(Attestation)
class AttestationAdmin(ReadOnlyAdmin):
    list_display = ["duty", "performed_at", "result", "on_time", "recorded_by", "via_token"]
    list_filter = ["result", "on_time", "duty__kind"]
    list_select_related = ["duty__engagement", "recorded_by", "via_token"]


@admin.register(AttestationToken)
class AttestationTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "engagement", "created_by", "last_used_at", "revoked_at"]
    exclude = ["digest"]
    list_select_related = ["engagement__organization", "created_by"]


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "engagement", "severity", "environment", "state", "ticket_reference"]
    list_filter = ["state", "severity", "environment"]
    search_fields = ["title", "ticket_reference", "engagement__name"]
    list_select_related = ["engagement__organization"]
