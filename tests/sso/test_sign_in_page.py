"""Single sign-on without a provider running: its configuration, the sign-in page's two
forms, and the refusals that happen before a provider is asked anything."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.http import urlencode

from engagements.actions.invitations import invite_member
from engagements.actions.sso import account_for_sso
from engagements.errors import DomainError
from engagements.models import Invitation, sign_invitation
from sso import providers
from sso.config import Provider, providers_from_env
from tests.factories import PASSWORD, UserFactory, subscriber_party

User = get_user_model()

# A provider nobody answers for (a closed loopback port): nothing here reaches a provider,
# except the test that shows what an unreachable one looks like.
NOWHERE = Provider(
    slug="customer",
    name="Customer IdP",
    issuer="http://127.0.0.1:9/o",
    client_id="portal",
    client_secret="secret",
    domains=("customer.example",),
)

GOOD = {
    "OIDC_PROVIDERS": "customer, vendor",
    "OIDC_CUSTOMER_NAME": "Customer Okta",
    "OIDC_CUSTOMER_ISSUER": "https://customer.okta.example/",
    "OIDC_CUSTOMER_CLIENT_ID": "id",
    "OIDC_CUSTOMER_CLIENT_SECRET": "secret",
    "OIDC_CUSTOMER_DOMAINS": "Customer.example, customer.example.org",
    "OIDC_VENDOR_ISSUER": "https://login.vendor.example",
    "OIDC_VENDOR_CLIENT_ID": "vid",
    "OIDC_VENDOR_CLIENT_SECRET": "vsecret",
    "OIDC_VENDOR_DOMAINS": "vendor.example",
    "OIDC_VENDOR_VENDOR": "1",
}


@pytest.fixture
def sso_on(settings, db):
    settings.SSO_PROVIDERS = (NOWHERE,)
    providers._cache.clear()
    return settings


# --- Configuration ---------------------------------------------------------------------


def test_providers_are_read_from_the_environment():
    customer, vendor = providers_from_env(GOOD)
    assert customer.name == "Customer Okta" and customer.issuer == "https://customer.okta.example"
    assert customer.domains == ("customer.example", "customer.example.org")
    assert not customer.vendor and vendor.vendor and vendor.name == "vendor"
    assert providers_from_env({}) == ()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"OIDC_CUSTOMER_CLIENT_SECRET": ""}, "OIDC_CUSTOMER_CLIENT_SECRET must be set"),
        ({"OIDC_CUSTOMER_ISSUER": "http://okta.example"}, "OIDC_CUSTOMER_ISSUER must be https://"),
        ({"OIDC_CUSTOMER_ISSUER": "okta"}, "OIDC_CUSTOMER_ISSUER must be an https:// URL"),
        ({"OIDC_CUSTOMER_DOMAINS": "not a domain"}, "OIDC_CUSTOMER_DOMAINS: 'not a domain'"),
        ({"OIDC_VENDOR_DOMAINS": "customer.example"}, "already covered by the provider customer"),
        ({"OIDC_VENDOR_VENDOR": "maybe"}, "OIDC_VENDOR_VENDOR must be a boolean"),
        ({"OIDC_PROVIDERS": "cust-omer"}, "OIDC_PROVIDERS: 'cust-omer' is not a short name"),
        ({"OIDC_CUSTOMER_SIGN_ALGO": "HS256"}, "OIDC_CUSTOMER_SIGN_ALGO must be one of"),
    ],
)
def test_a_bad_provider_setting_stops_start_up_naming_the_variable(change, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        providers_from_env({**GOOD, **change})


# --- The sign-in page ------------------------------------------------------------------


def test_the_sign_in_page_offers_each_provider(client, sso_on):
    page = client.get("/accounts/login/?next=/accounts/me/")
    assert page.status_code == 200
    assert b"Sign in with Customer IdP" in page.content
    assert b"/accounts/sso/customer/?next=%2Faccounts%2Fme%2F" in page.content


def test_without_providers_the_page_is_the_password_form(client, db):
    page = client.get("/accounts/login/")
    assert b"Single sign-on" not in page.content and b"Password" in page.content


@pytest.mark.parametrize("username", ["alice@customer.example", "alice"])
def test_a_password_sign_in_is_refused_for_a_single_sign_on_address(client, sso_on, username):
    UserFactory(username="alice", email="alice@customer.example")
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert "Accounts at customer.example sign in with Customer IdP" in response.text
    assert "_auth_user_id" not in client.session
    assert not AccessAttempt.objects.exists()  # refused before any password was checked


def test_a_password_sign_in_still_works_for_other_addresses(client, sso_on):
    UserFactory(username="pat", email="pat@example.com")
    response = client.post("/accounts/login/", {"username": "pat", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_the_address_first_goes_to_its_provider(client, sso_on):
    response = client.post("/accounts/sso/", {"email": "Bo@Customer.Example", "next": "/x/"})
    assert response.status_code == 302
    assert response["Location"] == (
        "/accounts/sso/customer/?next=%2Fx%2F&login_hint=bo%40customer.example"
    )


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("bo@elsewhere.example", "There is no single sign-on for elsewhere.example"),
        ("not an address", "Enter a valid email address."),
    ],
)
def test_the_address_first_explains_a_refusal(client, sso_on, email, says):
    response = client.post("/accounts/sso/", {"email": email, "next": "https://evil.example/"})
    assert response.status_code == 400
    assert "Work email address: " in response.text and says in response.text
    assert "evil.example" not in response.text


def test_an_unknown_provider_is_not_found(client, sso_on):
    assert client.get("/accounts/sso/nobody/").status_code == 404


def test_a_provider_that_does_not_answer_gets_a_clear_page(client, sso_on):
    response = client.get("/accounts/sso/customer/")
    assert response.status_code == 503
    assert "Customer IdP did not answer" in response.text


@pytest.mark.parametrize("query", ["", "?code=abc", "?code=abc&state=unknown", "?error=denied"])
def test_a_callback_this_browser_did_not_start_is_refused(client, sso_on, query):
    response = client.get("/accounts/sso/callback/" + query)
    assert response.status_code == 400
    assert "does not belong to a sign-in started in this browser" in response.text
    assert "_auth_user_id" not in client.session


def test_the_providers_own_refusal_is_shown(client, sso_on):
    session = client.session
    session["oidc_states"] = {"s1": {"nonce": "n", "code_verifier": "v", "added_on": 0}}
    session["_sso_state_provider"] = {"s1": "customer"}
    session.save()
    response = client.get(
        "/accounts/sso/callback/?state=s1&error=access_denied&error_description=Not+allowed"
    )
    assert response.status_code == 403
    assert "Customer IdP did not sign you in: Not allowed" in response.text
    assert "s1" not in client.session["oidc_states"]  # used up: no second try with it


# --- The account service ---------------------------------------------------------------


def test_a_disabled_account_is_not_signed_in(db):
    UserFactory(username="gone", email="gone@customer.example", is_active=False)
    with pytest.raises(DomainError, match="disabled"):
        account_for_sso(email="gone@customer.example", vendor_provider=False)


def test_an_expired_invitation_creates_nobody(engagement_a, cse, settings):
    invitation = invite_member(
        engagement_a, email="late@customer.example", party=subscriber_party(), actor=cse
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with pytest.raises(DomainError, match="no pending invitation"):
        account_for_sso(email="late@customer.example", vendor_provider=False)
    assert not User.objects.filter(email="late@customer.example").exists()


def test_two_accounts_with_the_address_are_not_guessed_between(db):
    UserFactory(username="one", email="twin@customer.example")
    UserFactory(username="two", email="TWIN@customer.example")
    with pytest.raises(DomainError, match="Several accounts use"):
        account_for_sso(email="twin@customer.example", vendor_provider=True)


def test_the_admin_sign_in_refuses_a_single_sign_on_address_too(client, sso_on, settings):
    UserFactory(username="root", email="root@customer.example", is_staff=True)
    response = client.post(
        f"/{settings.ADMIN_URL}login/", {"username": "root", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Accounts at customer.example sign in with Customer IdP" in response.text
    assert "_auth_user_id" not in client.session


def test_an_invitation_to_a_single_sign_on_address_offers_the_provider(
    client, sso_on, engagement_a, cse
):
    invitation = invite_member(
        engagement_a, email="kim@customer.example", party=subscriber_party(), actor=cse
    )
    link = "/accounts/invitation/?" + urlencode({"token": sign_invitation(invitation)})
    page = client.get(link).content.decode()
    assert "Continue with Customer IdP" in page and "Create account and join" not in page
    # Someone with an account of that address signs in at the provider, then comes back.
    UserFactory(username="kim", email="kim@customer.example")
    page = client.get(link).content.decode()
    assert "Sign in with Customer IdP" in page
    assert "/accounts/sso/customer/?next=%2Faccounts%2Finvitation%2F%3Ftoken%3D" in page


def test_the_sign_in_page_reads_nothing_for_its_providers(
    client, sso_on, settings, django_assert_num_queries
):
    """The providers are settings: the page costs no query with one or with twenty."""
    with django_assert_num_queries(0):
        assert client.get("/accounts/login/").status_code == 200
    settings.SSO_PROVIDERS = tuple(
        Provider(
            slug=f"p{i}",
            name=f"Provider {i}",
            issuer=f"https://idp{i}.example",
            client_id="id",
            client_secret="secret",
            domains=(f"d{i}.example",),
        )
        for i in range(20)
    )
    with django_assert_num_queries(0):
        assert b"Provider 19" in client.get("/accounts/login/").content
