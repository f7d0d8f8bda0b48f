"""Signing in: the sign-in page (address first, "Sign in with …", or a password), the start
of a sign-in at a provider, and the callback that signs the person in.

Signing in through a provider ends with the person signed in. The provider's second factor
counts where its ID token's `amr` names one (the session's two-factor state is "sso");
otherwise the portal's own TOTP step follows where it is required or enrolled, as after a
password. Each sign-in and each refusal is logged by
psaas_portal.security (address, provider; never a token)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts import two_factor

from . import providers
from .client import ProviderClient, Refused, provider_setting
from .forms import EmailFirstForm, PortalAuthenticationForm

log = logging.getLogger("psaas_portal.security")

# The library keeps state -> {nonce, code_verifier} under "oidc_states"; the portal keeps
# which provider each state was sent to, so a callback is checked against that provider.
STATES = "oidc_states"
PROVIDER_OF = "_sso_state_provider"
PROVIDER_SLUG = "_sso_provider_slug"
ID_TOKEN = "oidc_id_token"  # where mozilla-django-oidc stores it (OIDC_STORE_ID_TOKEN)

STATE_PROBLEM = (
    "This sign-in answer does not belong to a sign-in started in this browser (it was "
    "changed, used already, or started elsewhere), so the portal did not accept it. "
    "Start signing in again."
)


def refused(request, message: str, *, status: int = 403, provider=None):
    log.warning(
        "single sign-on refused: %s",
        message,
        extra={"provider": provider.slug if provider else ""},
    )
    return render(
        request,
        "sso/refused.html",
        {"message": message, "provider": provider},
        status=status,
    )


def start_url(provider, *, next_url: str = "", email: str = "") -> str:
    query = {k: v for k, v in (("next", next_url), ("login_hint", email)) if v}
    url = reverse("sso:start", args=[provider.slug])
    return f"{url}?{urlencode(query)}" if query else url


@method_decorator([login_not_required, never_cache], name="dispatch")
class SignInView(LoginView):
    """Django's sign-in page with the password form that refuses single sign-on domains,
    the address-first form and a button per provider."""

    authentication_form = PortalAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = self.get_redirect_url()
        context["sso_providers"] = [
            (p, start_url(p, next_url=next_url)) for p in providers.configured()
        ]
        context.setdefault("email_form", EmailFirstForm())
        form = context.get("form")
        if form is not None and form.is_bound and form.has_error("__all__", "sso_domain"):
            context["sso_refusal"] = form.non_field_errors()[0]
        return context


@login_not_required
@require_POST
def email_first(request):
    """The address first: to its provider's sign-in, or back with a message naming why not."""
    form = EmailFirstForm(request.POST)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if form.is_valid():
        return redirect(
            start_url(form.provider, next_url=next_url, email=form.cleaned_data["email"])
        )
    context = {
        "form": PortalAuthenticationForm(request),
        "email_form": form,
        "next": next_url,
        "sso_providers": [(p, start_url(p, next_url=next_url)) for p in providers.configured()],
    }
    return render(request, "registration/login.html", context, status=400)


@method_decorator([login_not_required, never_cache], name="dispatch")
class StartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's sign-in (the library's authentication request:
    state, nonce and a PKCE challenge kept in the session)."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the library would read one provider from settings

    def get_settings(self, attr, *args):
        return provider_setting(self.provider, attr, *args)

    def get(self, request, slug):
        provider = providers.by_slug(slug)
        if provider is None:
            raise Http404("No such identity provider.")
        self.provider = provider
        try:
            endpoints = providers.endpoints(provider)
        except providers.Unavailable as exc:
            return refused(request, str(exc), status=503, provider=provider)
        self.OIDC_OP_AUTH_ENDPOINT = endpoints["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = provider.client_id
        response = super().get(request)
        state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
        live = request.session.get(STATES) or {}
        bound = {s: p for s, p in (request.session.get(PROVIDER_OF) or {}).items() if s in live}
        bound[state] = provider.slug
        request.session[PROVIDER_OF] = bound
        return response

    def get_extra_params(self, request):
        hint = request.GET.get("login_hint", "").strip()[:254]
        return {"login_hint": hint} if providers.for_email(hint) == self.provider else {}


@method_decorator([login_not_required, never_cache], name="dispatch")
class CallbackView(View):
    """Where every provider sends the browser back (one URL to register at each provider).
    The state must be one this browser's session started, at the provider it was sent to;
    it is used up before anything else is checked, so an answer cannot be replayed."""

    http_method_names = ["get"]

    def get(self, request):
        state = request.GET.get("state", "")
        entry = slug = None
        if state:
            states = dict(request.session.get(STATES) or {})
            bound = dict(request.session.get(PROVIDER_OF) or {})
            entry, slug = states.pop(state, None), bound.pop(state, None)
            request.session[STATES], request.session[PROVIDER_OF] = states, bound
        provider = providers.by_slug(slug) if slug else None
        if entry is None or provider is None:
            return refused(request, STATE_PROBLEM, status=400)
        request.session.save()
        if request.GET.get("error"):
            said = request.GET.get("error_description") or request.GET.get("error")
            return refused(
                request, f"{provider.name} did not sign you in: {said[:200]}", provider=provider
            )
        if not request.GET.get("code"):
            return refused(request, STATE_PROBLEM, status=400, provider=provider)
        try:
            client = ProviderClient(provider, providers.endpoints(provider))
            user = client.authenticate(
                request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
            )
        except Refused as exc:
            return refused(request, str(exc), provider=provider)
        except providers.Unavailable as exc:
            return refused(request, str(exc), status=503, provider=provider)
        except (SuspiciousOperation, jwt.PyJWTError) as exc:
            log.warning("single sign-on answer not verified: %s", exc)
            return refused(
                request,
                f"The sign-in answer from {provider.name} could not be verified (it does not "
                "match the sign-in this browser started, or its signature is wrong), so the "
                "portal did not accept it. Start signing in again.",
                provider=provider,
            )
        except (requests.RequestException, ValueError, KeyError):
            log.exception("single sign-on: %s did not answer as expected", provider.slug)
            return refused(
                request,
                f"{provider.name} did not answer as expected; try again in a few minutes.",
                status=502,
                provider=provider,
            )
        if user is None or not user.is_active:
            return refused(request, STATE_PROBLEM, status=400, provider=provider)
        next_url = request.session.pop("oidc_login_next", None) or reverse(
            settings.LOGIN_REDIRECT_URL
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        # The provider's second factor counts where its token names one; else the portal's
        # own two-factor step, as after a password (required for staff, or enrolled).
        second_step = two_factor.state_after_sso(user, client.id_claims.get("amr"))
        request.session[two_factor.STATE] = second_step
        request.session[PROVIDER_SLUG] = provider.slug
        log.info("single sign-on: %s signed in with %s", user.email, provider.slug)
        return HttpResponseRedirect(next_url)  # accounts' middleware asks for a step owed


def provider_sign_out_url(request, slug: str, id_token: str) -> str:
    """Where to send the browser to sign out at the provider the session signed in with
    (RP-Initiated Logout: the ID token as the hint, back to the sign-in page); "" when it
    signed in with a password, or the provider has no end-session endpoint or is not
    answering (the portal's own sign-out has happened either way)."""
    provider = providers.by_slug(slug) if slug else None
    if provider is None:
        return ""
    try:
        end_session = providers.endpoints(provider).get("end_session_endpoint", "")
    except providers.Unavailable:
        log.warning("single sign-on: %s not answering; signed out of the portal only", slug)
        return ""
    if not end_session:
        return ""
    query = {
        "client_id": provider.client_id,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    if id_token:
        query["id_token_hint"] = id_token
    return f"{end_session}{'&' if '?' in end_session else '?'}{urlencode(query)}"


class SignOutView(LogoutView):
    """Django's sign-out (POST), then, for a session that signed in through a provider, the
    provider's own sign-out, so that the next "Sign in with …" asks who is there."""

    def post(self, request, *args, **kwargs):
        slug = request.session.get(PROVIDER_SLUG, "")
        id_token = request.session.get(ID_TOKEN, "")
        response = super().post(request, *args, **kwargs)  # the session is flushed here
        at_provider = provider_sign_out_url(request, slug, id_token)
        return HttpResponseRedirect(at_provider) if at_provider else response
