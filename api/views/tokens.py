"""The account page's API tokens: make one (its value shown once), see them, revoke one."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from engagements.errors import DomainError

from ..forms import TokenForm
from ..models import ApiToken
from ..tokens import create_api_token, revoke_api_token


def _page(request, form: TokenForm, *, raw: str = "", status: int = 200):
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "raw": raw, "now": timezone.now()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def tokens(request):
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    days = form.cleaned_data["expires_in"]
    try:
        _token, raw = create_api_token(
            request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
        )
    except DomainError as exc:
        form.add_error(None, str(exc))
        return _page(request, form, status=400)
    # Shown in this answer only: never put in the session or a message.
    return _page(request, TokenForm(), raw=raw, status=201)


@require_POST
def token_revoke(request, token_id: int):
    try:
        token = revoke_api_token(request.user, token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("api:tokens")
    messages.success(request, f"Revoked the token {token.name!r}.")
    return redirect("api:tokens")
