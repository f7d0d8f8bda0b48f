from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from engagements.choices import EngagementState
from engagements.lookups import get_engagement_for_view
from engagements.models import Engagement
from engagements.selectors.engagements import engagement_page

from ..pagination import Pages
from ..serializers.engagements import (
    EngagementDetailOut,
    EngagementOut,
    MatrixRowOut,
    PartyOut,
    ProgressOut,
)
from .common import ApiViewSet, query


class EngagementFilters(serializers.Serializer):
    state = serializers.ChoiceField(choices=EngagementState.choices, required=False)
    organization = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(
        required=False, max_length=150, help_text="Part of the name, any case."
    )


class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The engagements you can see (as on the engagement list page)."""

    serializer_class = EngagementOut
    pagination_class = Pages

    def get_queryset(self):
        filters = query(EngagementFilters, self.request) if self.action == "list" else {}
        if "name" in filters:
            filters["name__icontains"] = filters.pop("name")
        if "organization" in filters:
            filters["organization_id"] = filters.pop("organization")
        return (
            Engagement.objects.visible_to(self.request.user)
            .select_related("organization", "template_version__template")
            .filter(**filters)
            .order_by("pk")
        )

    @extend_schema(parameters=[EngagementFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=EngagementDetailOut)
    def retrieve(self, request, *args, **kwargs):
        """The engagement with its live matrix (the engagement page's data)."""
        engagement = get_engagement_for_view(request.user, self.kwargs["pk"])
        page = engagement_page(engagement, user=request.user)
        context = {"columns": page["columns"]}
        return Response(
            {
                **EngagementOut(engagement).data,
                "columns": PartyOut(page["columns"], many=True).data,
                "rows": MatrixRowOut(page["rows"], many=True, context=context).data,
                "progress": ProgressOut(page["progress"]).data,
            }
        )
