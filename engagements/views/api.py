from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from engagements.actions.duties import AttestationIn, record_attestation
from engagements.actions.tokens import token_for
from engagements.choices import DutyKind
from engagements.cleaning import MAX_SIZE
from engagements.errors import DomainError, NotAllowed
from engagements.models import StandingDuty
from psaas_portal import inputs

log = logging.getLogger(__name__)


API_MAX_BODY = 16 * 1024


def _api_error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="psaas-portal attestations"'
    return response


@login_not_required
@csrf_exempt
@never_cache
def api_attestations(request, engagement_id: int):
    """POST /api/engagements/<id>/attestations/ with `Authorization: Bearer <token>` and a
    JSON body; the token may record attestations on its own engagement and nothing else."""
    if request.method != "POST":
        response = _api_error(405, "Use POST with a JSON body.")
        response["Allow"] = "POST"
        return response
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    token = token_for(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        return _api_error(401, "A valid attestation token is required (Authorization: Bearer …).")
    if not token.created_by.is_active:
        return _api_error(401, "This token's creator is deactivated; make a new token.")
    if token.engagement_id != engagement_id:
        log.warning("attestation token %s… used for another engagement", token.prefix)
        return _api_error(403, "This token is not valid for that engagement.")
    if len(request.body) > API_MAX_BODY:
        return _api_error(413, f"The body is larger than {API_MAX_BODY} bytes.")
    try:
        body = inputs.load_json(request.body or b"")
    except inputs.InputError as exc:
        return _api_error(400, str(exc))
    if not isinstance(body, dict):
        return _api_error(400, "The body must be a JSON object.")
    kind = body.get("duty", DutyKind.BACKUP)
    if kind not in DutyKind.values:
        return _api_error(400, f"duty must be one of: {', '.join(DutyKind.values)}.")
    try:
        performed_at = inputs.parse_time(body.get("performed_at"), "performed_at")
    except inputs.InputError as exc:
        return _api_error(400, str(exc))
    size = body.get("size_bytes")
    if size is not None and (
        not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE
    ):
        return _api_error(400, "size_bytes must be a whole number of bytes (0 to 2^63-1).")
    strings = {}
    for key in ("result", "tool", "reference", "monitored", "alerts_to", "notes"):
        value = body.get(key, "")
        if not isinstance(value, str):
            return _api_error(400, f"{key} must be a string.")
        try:
            check = inputs.multi_line if key == "notes" else inputs.single_line
            strings[key] = check(value, key)
        except inputs.InputError as exc:
            return _api_error(400, str(exc))
    duty = StandingDuty.objects.filter(engagement_id=engagement_id, kind=kind).first()
    if duty is None:
        return _api_error(400, f"This engagement has no {kind} duty.")
    try:
        record = record_attestation(
            duty,
            actor=token.created_by,
            token=token,
            attestation=AttestationIn(performed_at=performed_at, size_bytes=size, **strings),
        )
    except NotAllowed as exc:
        return _api_error(403, f"The token's creator may no longer attest this: {exc}")
    except DomainError as exc:
        return _api_error(400, str(exc))
    return JsonResponse(
        {
            "id": record.pk,
            "duty": kind,
            "result": record.result,
            "performed_at": record.performed_at.isoformat(),
            "on_time": record.on_time,
        },
        status=201,
    )
