"""The backup job's endpoint, under /api/v1/: the same view as the older
/api/engagements/<id>/attestations/ (which stays), so both keep one contract. It takes an
attestation token (psat_…, made on the duties page), not a personal token."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from engagements.views.api import api_attestations

from ..openapi import ErrorOut
from ..serializers.attestations import AttestationIn, AttestationOut


class AttestationView(APIView):
    authentication_classes: list = []  # the attestation token, checked by the view itself
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="engagements_attestations_create",
        request=AttestationIn,
        responses={
            201: AttestationOut,
            403: OpenApiResponse(
                ErrorOut,
                "The token is for another engagement, or its creator may no longer attest.",
            ),
        },
        auth=[{"attestationToken": []}],  # type: ignore[list-item]  # (dicts, as the schema has)
    )
    def post(self, request, engagement_id: int):
        """Records that a backup (or monitoring review) was done, for the backup job."""
        return api_attestations(request._request, engagement_id)
