"""Signing in through a real OpenID Connect provider on loopback (tests/oidc_idp): the
portal's live server and the provider's process talk HTTP, a requests session plays the
browser. Each failure case checks the person is not signed in and the page says why."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.contrib.auth import get_user_model

from engagements.actions.invitations import invite_member
from engagements.actions.membership import add_member
from engagements.choices import InvitationState, OrganizationKind
from engagements.models import Membership, Profile, sign_invitation
from tests.factories import UserFactory, subscriber_party

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _signed_in_as(visitor) -> str:
    """Whose account page the session opens ("" when it is sent to sign in)."""
    response = visitor.get(visitor.url("/accounts/me/"), allow_redirects=False)
    if response.status_code != 200:
        return ""
    return re.search(r"User name: ([^ <·]+)", response.text).group(1)


def _problem(response) -> str:
    found = re.search(r'data-testid="sso-problem">([^<]+)<', response.text)
    return found.group(1) if found else ""


@pytest.fixture
def alice(engagement_a, org_a):
    user = UserFactory(username="alice", email="alice@customer.example", organization=org_a)
    add_member(engagement_a, user, party=subscriber_party(), roles=[], actor=None)
    return user


def test_sign_in_through_the_provider(sso_settings, visitor, alice, settings, caplog):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    caplog.set_level(logging.INFO, logger="psaas_portal.security")
    authorize = visitor.to_provider("/accounts/sso/customer/?next=/accounts/me/")
    assert authorize.startswith(sso_settings.SSO_PROVIDERS[0].issuer + "/authorize/")
    query = parse_qs(urlsplit(authorize).query)
    assert query["nonce"] and query["state"] and query["code_challenge_method"] == ["S256"]
    callback = visitor.sign_in_at_provider(authorize, "alice")
    response = visitor.get(callback, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/me/"
    page = visitor.get(visitor.url("/accounts/me/"))
    assert "You sign in with Customer IdP" in page.text
    assert _signed_in_as(visitor) == "alice"
    assert "single sign-on: alice@customer.example signed in with customer" in caplog.text
    # The portal's own second step is not asked for, and the engagement opens.
    assert visitor.get(visitor.url("/"), allow_redirects=False).status_code == 200
    # The same answer a second time is refused: its state was used up.
    again = visitor.get(callback, allow_redirects=False)
    assert again.status_code == 400
    assert "used already" in _problem(again)


def test_the_address_first_leads_to_its_provider(sso_settings, visitor, alice):
    page = visitor.get(visitor.url("/accounts/login/"))
    token = visitor.cookies["csrftoken"]
    assert "Sign in with Customer IdP" in page.text
    response = visitor.post(
        visitor.url("/accounts/sso/"),
        data={"csrfmiddlewaretoken": token, "email": "Alice@Customer.example", "next": "/"},
        allow_redirects=False,
    )
    assert response.status_code == 302
    authorize = visitor.to_provider(response.headers["Location"])
    assert parse_qs(urlsplit(authorize).query)["login_hint"] == ["alice@customer.example"]
    visitor.get(visitor.sign_in_at_provider(authorize, "alice"))
    assert _signed_in_as(visitor) == "alice"


def test_a_changed_state_is_refused(sso_settings, visitor, alice):
    callback = visitor.sign_in_at_provider(visitor.to_provider("/accounts/sso/customer/"), "alice")
    response = visitor.get(_with_query(callback, state="x" * 32))
    assert response.status_code == 400
    assert "does not belong to a sign-in started in this browser" in _problem(response)
    assert _signed_in_as(visitor) == ""


def test_a_changed_nonce_is_refused(sso_settings, visitor, alice):
    authorize = visitor.to_provider("/accounts/sso/customer/")
    callback = visitor.sign_in_at_provider(_with_query(authorize, nonce="n" * 32), "alice")
    response = visitor.get(callback)
    assert response.status_code == 403
    assert "could not be verified" in _problem(response)
    assert _signed_in_as(visitor) == ""


def test_another_issuer_is_refused(sso_settings, visitor, alice):
    callback = visitor.sign_in_at_provider(visitor.to_provider("/accounts/sso/rogue/"), "alice")
    response = visitor.get(callback)
    assert response.status_code == 403
    assert "was not issued by Rogue IdP" in _problem(response)
    assert _signed_in_as(visitor) == ""


def test_an_unverified_address_is_refused(sso_settings, visitor, org_a):
    UserFactory(username="una", email="unverified@customer.example", organization=org_a)
    callback = visitor.sign_in_at_provider(
        visitor.to_provider("/accounts/sso/customer/"), "unverified"
    )
    response = visitor.get(callback)
    assert response.status_code == 403
    assert "has not verified the address unverified@customer.example" in _problem(response)
    assert _signed_in_as(visitor) == ""


def test_a_domain_the_provider_does_not_cover_is_refused(sso_settings, visitor, org_a):
    UserFactory(username="otto", email="outsider@elsewhere.example", organization=org_a)
    callback = visitor.sign_in_at_provider(
        visitor.to_provider("/accounts/sso/customer/"), "outsider"
    )
    response = visitor.get(callback)
    assert response.status_code == 403
    assert "not set up to sign in addresses at elsewhere.example" in _problem(response)
    assert _signed_in_as(visitor) == ""


def test_nobody_is_created_without_an_invitation(sso_settings, visitor, engagement_a):
    callback = visitor.sign_in_at_provider(
        visitor.to_provider("/accounts/sso/customer/"), "stranger"
    )
    response = visitor.get(callback)
    assert response.status_code == 403
    assert "no pending invitation" in _problem(response)
    assert not User.objects.filter(email="stranger@customer.example").exists()
    assert _signed_in_as(visitor) == ""


def test_an_invitation_is_accepted_through_the_provider(
    sso_settings, visitor, engagement_a, cse, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    invitation = invite_member(
        engagement_a,
        email="newcomer@customer.example",
        party=subscriber_party(),
        roles=[],
        actor=cse,
    )
    link = "/accounts/invitation/?" + urlencode({"token": sign_invitation(invitation)})
    page = visitor.get(visitor.url(link))
    assert "Continue with Customer IdP" in page.text
    # A password cannot be set for an address of a single sign-on domain.
    refused = visitor.post(
        visitor.url(link),
        data={
            "csrfmiddlewaretoken": visitor.cookies["csrftoken"],
            "first_name": "Nora",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
        },
    )
    assert refused.status_code == 400
    assert not User.objects.filter(email="newcomer@customer.example").exists()
    go = re.search(r'href="([^"]+)" data-testid="invitation-sso"', page.text).group(1)
    authorize = visitor.to_provider(go.replace("&amp;", "&"))
    landed = visitor.get(visitor.sign_in_at_provider(authorize, "newcomer"))
    assert landed.url.endswith(link) and "Accept as Nora Newcomer" in landed.text
    account = User.objects.get(email="newcomer@customer.example")
    assert (
        not account.has_usable_password()
        and account.profile.organization == engagement_a.organization
    )
    joined = visitor.post(
        visitor.url(link), data={"csrfmiddlewaretoken": visitor.cookies["csrftoken"]}
    )
    assert joined.status_code == 200 and f"/engagements/{engagement_a.pk}/" in joined.url
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.ACCEPTED
    assert Membership.objects.filter(engagement=engagement_a, user=account).exists()


def test_the_vendors_provider_creates_a_vendor_account_with_no_access(
    sso_settings, visitor, vendor_org, engagement_a, settings
):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    visitor.get(visitor.sign_in_at_provider(visitor.to_provider("/accounts/sso/vendor/"), "vera"))
    assert _signed_in_as(visitor) == "vera@vendor.example"
    account = User.objects.get(email="vera@vendor.example")
    assert Profile.objects.get(user=account).organization.kind == OrganizationKind.VENDOR
    assert not Membership.objects.filter(user=account).exists()
    assert not account.user_permissions.exists() and not account.groups.exists()
    assert visitor.get(visitor.url(f"/engagements/{engagement_a.pk}/")).status_code == 404
    # Vendor staff must use a second factor; the provider's counts: no enrolment asked.
    assert visitor.get(visitor.url("/"), allow_redirects=False).status_code == 200
    assert "You sign in with Vendor IdP" in visitor.get(visitor.url("/accounts/me/")).text


def test_signing_out_signs_out_at_the_provider_too(sso_settings, visitor, alice):
    """RP-Initiated Logout: the portal's sign-out ends its session, then sends the browser
    to the provider's end-session endpoint with the ID token as the hint and the sign-in
    page to come back to; the next "Sign in with …" asks the provider's sign-in again."""
    authorize = visitor.to_provider("/accounts/sso/customer/")
    visitor.get(visitor.sign_in_at_provider(authorize, "alice"), allow_redirects=False)
    assert _signed_in_as(visitor) == "alice"
    visitor.get(visitor.url("/accounts/me/"))  # a page with a form: the CSRF cookie is set
    response = visitor.post(
        visitor.url("/accounts/logout/"),
        data={"csrfmiddlewaretoken": visitor.csrf()},
        headers={"Referer": visitor.url("/accounts/me/")},
        allow_redirects=False,
    )
    assert response.status_code == 302
    at_provider = response.headers["Location"]
    issuer = sso_settings.SSO_PROVIDERS[0].issuer
    assert at_provider.startswith(issuer + "/")
    query = parse_qs(urlsplit(at_provider).query)
    assert query["client_id"] == ["psaas-portal"] and query["id_token_hint"][0].count(".") == 2
    assert query["post_logout_redirect_uri"] == [visitor.url("/accounts/login/")]
    assert _signed_in_as(visitor) == ""  # the portal's session ended first
    back = visitor.get(at_provider, allow_redirects=False)
    assert back.status_code == 302 and back.headers["Location"] == visitor.url("/accounts/login/")
    # The provider's session ended too: signing in again goes to its sign-in page.
    again = visitor.get(visitor.to_provider("/accounts/sso/customer/"), allow_redirects=False)
    assert again.status_code == 302 and "/login/" in again.headers["Location"]


def test_a_password_session_signs_out_in_the_portal_only(sso_settings, client, admin_user):
    client.force_login(admin_user)
    response = client.post("/accounts/logout/")
    assert response.status_code in (200, 302)
    assert "Location" not in response or "/accounts/sso" not in response["Location"]
    assert client.get("/accounts/me/").status_code == 302


def test_staff_whose_provider_used_no_second_factor_do_the_portals(
    sso_settings, visitor, vendor_org, settings
):
    """Victor's ID token says a password only (`amr: ["pwd"]`): the portal's two-factor
    policy applies as after a password sign-in, so vendor staff are asked to set up the
    authenticator app before any page opens. (Vera's token names a second factor: above.)"""
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    callback = visitor.sign_in_at_provider(visitor.to_provider("/accounts/sso/vendor/"), "victor")
    response = visitor.get(callback, allow_redirects=False)
    assert response.status_code == 302
    home = visitor.get(visitor.url("/"), allow_redirects=False)
    assert home.status_code == 302 and "/accounts/two-factor/set-up/" in home.headers["Location"]
    assert User.objects.filter(email="victor@vendor.example").exists()
