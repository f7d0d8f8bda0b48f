"""What each person may see, as queryset methods: every view starts from these."""

from __future__ import annotations

from django.db import models


class EngagementQuerySet(models.QuerySet):
    def visible_to(self, user) -> EngagementQuerySet:
        from . import permissions

        return self.filter(permissions.visible_engagements_q(user))


class EngagementTaskQuerySet(models.QuerySet):
    def live(self) -> EngagementTaskQuerySet:
        """Tasks of the engagement's current template version (not retired by a newer one)."""
        return self.filter(retired_at__isnull=True)

    def visible_to(self, user) -> EngagementTaskQuerySet:
        from . import permissions

        return self.filter(permissions.visible_engagements_q(user, ref="engagement_id"))
