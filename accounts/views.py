"""Accepting an invitation (public: the signed link is the credential), the account page
and two-factor sign-in (its second step, enrolment, recovery codes)."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from engagements.actions.accounts import update_account
from engagements.actions.invitations import (
    InvitationUnusable,
    accept_invitation,
    account_problem,
    open_invitation,
)
from engagements.errors import DomainError
from engagements.models import Profile
from engagements.views.common import form_errors
from psaas_portal.security import lockout_response
from psaas_portal.sessions import end_sessions, sessions_of
from sso import providers as sso_providers
from sso.views import start_url

from . import two_factor
from .forms import AcceptInvitationForm, AccountForm
from .middleware import set_session_zone

TEMPLATE = "accounts/invitation.html"


@login_not_required
@never_cache
def invitation(request):
    """The invitation link (…/invitation/?token=…): what it is for and how to accept it, or
    plainly why it cannot be used (changed, superseded, used, withdrawn, expired)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    token = request.GET.get("token", "")[:500]
    try:
        inv = open_invitation(token)
    except InvitationUnusable as exc:
        return render(request, TEMPLATE, {"problem": str(exc)}, status=410)
    user = request.user if request.user.is_authenticated else None
    problem = account_problem(inv, user)
    provider = sso_providers.for_email(inv.email)
    context = {
        "invitation": inv,
        "problem": problem,
        "sso_provider": provider,
        "sso_url": start_url(provider, next_url=request.get_full_path(), email=inv.email)
        if provider
        else "",
        "login_url": f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}",
        "form": AcceptInvitationForm(email=inv.email) if user is None else None,
    }
    if request.method == "GET" or problem:
        return render(request, TEMPLATE, context, status=200 if request.method == "GET" else 400)
    form = None
    password, first, last = "", "", ""
    if user is None and provider is not None:
        messages.error(
            request,
            f"Addresses at {sso_providers.domain_of(inv.email)} sign in with {provider.name}: "
            f"use “Continue with {provider.name}”, then accept. Nothing was saved.",
        )
        return render(request, TEMPLATE, context, status=400)
    if user is None:
        form = AcceptInvitationForm(request.POST, email=inv.email)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return render(request, TEMPLATE, {**context, "form": form}, status=400)
        password = form.cleaned_data["password1"]
        first, last = form.cleaned_data["first_name"], form.cleaned_data["last_name"]
    try:
        accepted, account = accept_invitation(
            token, user=user, password=password, first_name=first, last_name=last
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return render(request, TEMPLATE, {**context, "form": form}, status=400)
    if user is None:
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Welcome to {accepted.engagement.name}.")
    return redirect("engagements:engagement-detail", accepted.engagement_id)


def account(request):
    """Name, email, time zone; the sessions signed in with this account; links to the
    notification preferences, the calendar feed and the password."""
    profile = Profile.objects.filter(user=request.user).first()
    initial = {
        "first_name": request.user.first_name,
        "last_name": request.user.last_name,
        "email": request.user.email,
        "time_zone": profile.time_zone if profile else "",
    }
    status = 200
    if request.method == "POST":
        form = AccountForm(request.POST, default_zone=settings.TIME_ZONE)
        if form.is_valid():
            d = form.cleaned_data
            try:
                update_account(
                    request.user,
                    first_name=d["first_name"],
                    last_name=d["last_name"],
                    email=d["email"],
                    time_zone=d["time_zone"],
                    actor=request.user,
                )
            except DomainError as exc:
                messages.error(request, str(exc))
                status = 400
            else:
                set_session_zone(request, d["time_zone"])
                messages.success(request, "Account saved.")
                return redirect("accounts:account")
        else:
            messages.error(request, form_errors(form))
            status = 400
    elif request.method == "GET":
        form = AccountForm(initial=initial, default_zone=settings.TIME_ZONE)
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "accounts/account.html",
        {
            "form": form,
            "profile": profile,
            "sessions": sessions_of(request.user.pk),
            "authenticator": two_factor.authenticator(request.user),
            "recovery_codes_left": two_factor.recovery_codes_left(request.user),
            "two_factor_required": two_factor.required(request.user),
            "current_key": request.session.session_key,
            "sso_provider": sso_providers.for_email(request.user.email),
        },
        status=status,
    )


@require_POST
def end_other_sessions(request):
    ended = end_sessions(request.user.pk, keep=request.session.session_key)
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:account")


# --- Two-factor sign-in ---------------------------------------------------------------------


def _next_url(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@never_cache
def two_factor_verify(request):
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    if request.session.get(two_factor.STATE) != two_factor.PENDING:
        return redirect(_next_url(request))
    if request.method == "GET":
        return render(request, "accounts/two_factor_verify.html", {"next": _next_url(request)})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    credentials = {"username": two_factor.throttle_key(request.user)}
    if AxesProxyHandler.is_locked(request, credentials):
        return lockout_response(request, None, credentials)
    if not two_factor.verify_second_step(request, request.user, request.POST.get("code", "")):
        messages.error(request, "That code is not right (or was used already). Try again.")
        return render(
            request, "accounts/two_factor_verify.html", {"next": _next_url(request)}, status=400
        )
    axes_reset(username=credentials["username"])
    request.session.cycle_key()
    request.session[two_factor.STATE] = two_factor.VERIFIED
    return redirect(_next_url(request))


@never_cache
def two_factor_enrol(request):
    """Setting up the authenticator app: its key, then a code from it; the recovery codes
    are shown once. Not for someone who owes the second step (no new device then)."""
    state = request.session.get(two_factor.STATE)
    if state == two_factor.PENDING:
        return redirect("accounts:two-factor-verify")
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    device = two_factor.pending_authenticator(request.user)
    context = {
        "secret": two_factor.secret_of(device),
        "config_url": device.config_url,
        "required": state == two_factor.ENROL,
        "next": _next_url(request),
    }
    if request.method == "GET":
        return render(request, "accounts/two_factor_enrol.html", context)
    codes = two_factor.confirm_authenticator(request.user, request.POST.get("code", ""))
    if codes is None:
        messages.error(request, "That code is not right: enter the one the app shows now.")
        return render(request, "accounts/two_factor_enrol.html", context, status=400)
    request.session[two_factor.STATE] = two_factor.VERIFIED
    messages.success(request, "Two-factor sign-in is on.")
    return render(
        request, "accounts/two_factor_codes.html", {"codes": codes, "next": context["next"]}
    )


@require_POST
def two_factor_codes(request):
    """New recovery codes (the old ones stop working), shown once."""
    if two_factor.authenticator(request.user) is None:
        messages.error(request, "Set up an authenticator app first.")
        return redirect("accounts:account")
    codes = two_factor.renew_recovery_codes(request.user)
    return render(
        request,
        "accounts/two_factor_codes.html",
        {"codes": codes, "next": reverse("accounts:account")},
    )


@require_POST
def two_factor_off(request):
    try:
        two_factor.turn_off(request.user)
    except PermissionError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:account")
    request.session[two_factor.STATE] = two_factor.OFF
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("accounts:account")
