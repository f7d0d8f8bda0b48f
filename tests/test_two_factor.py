"""Two-factor sign-in: enrolment from the account page, the second step with a code or a
recovery code, required for the vendor's staff (a setting) and optional for subscribers,
and django-axes throttling the second step too."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

MY_WORK = reverse("engagements:my-work")
VERIFY = reverse("accounts:two-factor-verify")
ENROL = reverse("accounts:two-factor-enrol")


def code_for(device: TOTPDevice, *, later: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - later * device.step):06d}"


def sign_in(user, address: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrol(client, user) -> list[str]:
    page = client.get(ENROL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page.content.decode())
    assert secret and secret.group(1) == two_factor.secret_of(device)
    response = client.post(ENROL, {"code": code_for(device)})
    assert response.status_code == 200
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())


def test_a_subscriber_enrols_from_the_account_page_then_signs_in_with_a_code(engineer_a):
    client = sign_in(engineer_a)
    account = client.get(reverse("accounts:account")).content.decode()
    assert 'data-testid="two-factor-status">Off.' in account
    codes = enrol(client, engineer_a)
    assert len(codes) == two_factor.RECOVERY_CODES
    assert TOTPDevice.objects.get(user=engineer_a).confirmed

    later = sign_in(engineer_a)
    response = later.get(MY_WORK)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert later.get(reverse("accounts:account")).status_code == 302
    assert later.get(ENROL).status_code == 302  # no new device before the second step
    assert later.post(VERIFY, {"code": "000000"}).status_code == 400
    device = TOTPDevice.objects.get(user=engineer_a)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    response = later.post(VERIFY, {"code": code_for(device, later=1), "next": MY_WORK})
    assert response.status_code == 302 and response["Location"] == MY_WORK
    assert later.get(MY_WORK).status_code == 200


def test_a_recovery_code_works_once(engineer_a):
    codes = enrol(sign_in(engineer_a), engineer_a)
    first = sign_in(engineer_a)
    assert first.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert first.get(MY_WORK).status_code == 200
    again = sign_in(engineer_a)
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=engineer_a).count() == len(codes) - 1


def test_wrong_codes_pause_the_second_step_even_with_a_new_password_sign_in(engineer_a, settings):
    enrol(sign_in(engineer_a), engineer_a)
    client = sign_in(engineer_a)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": "123456"}).status_code == 400
    assert client.post(VERIFY, {"code": "123456"}).status_code == 429
    # Sign-in from that address is paused, as after wrong passwords.
    paused = Client(REMOTE_ADDR="127.0.0.1").post(
        reverse("login"), {"username": engineer_a.username, "password": PASSWORD}
    )
    assert paused.status_code == 429
    # From elsewhere the password passes (and resets its own count), but the second step
    # stays paused for the account: the right code is not even checked.
    again = sign_in(engineer_a, "10.0.0.2")
    device = TOTPDevice.objects.get(user=engineer_a)
    response = again.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 429
    assert again.get(MY_WORK).status_code == 302


def test_required_for_vendor_staff_where_the_setting_is_on(cse, engineer_a, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    client = sign_in(cse)
    response = client.get(MY_WORK)
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    assert "required for the vendor" in client.get(ENROL).content.decode()
    enrol(client, cse)
    assert client.get(MY_WORK).status_code == 200
    # It cannot be turned off; a subscriber stays free to go without.
    assert client.post(reverse("accounts:two-factor-off")).status_code == 302
    assert TOTPDevice.objects.filter(user=cse).exists()
    assert sign_in(engineer_a).get(MY_WORK).status_code == 200


def test_not_required_where_the_setting_is_off(cse, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = False
    assert sign_in(cse).get(MY_WORK).status_code == 200


def test_a_portal_admin_is_vendor_staff_for_this(admin_user, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    assert sign_in(admin_user).get(MY_WORK)["Location"].startswith(ENROL)


def test_a_subscriber_turns_it_off_and_renews_recovery_codes(engineer_a):
    client = sign_in(engineer_a)
    old = enrol(client, engineer_a)
    page = client.post(reverse("accounts:two-factor-codes"))
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())
    assert len(new) == two_factor.RECOVERY_CODES and not set(old) & set(new)
    assert client.post(reverse("accounts:two-factor-off")).status_code == 302
    assert not TOTPDevice.objects.filter(user=engineer_a).exists()
    assert sign_in(engineer_a).get(MY_WORK).status_code == 200


def test_a_wrong_enrolment_code_turns_nothing_on(engineer_a):
    client = sign_in(engineer_a)
    client.get(ENROL)
    assert client.post(ENROL, {"code": "000000"}).status_code == 400
    assert not TOTPDevice.objects.filter(user=engineer_a, confirmed=True).exists()


def test_a_start_permission_group_does_not_bypass_it(cse, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_STAFF = True
    group, _ = Group.objects.get_or_create(name="Vendor managers")
    group.permissions.add(Permission.objects.get(codename="start_engagement"))
    cse.groups.add(group)
    client = sign_in(cse)
    assert client.get(reverse("engagements:engagement-new")).status_code == 302


def test_an_expired_code_is_refused_and_changes_nothing(engineer_a):
    """A code the app showed five minutes ago (ten 30-second steps) no longer signs in."""
    enrol(sign_in(engineer_a), engineer_a)
    client = sign_in(engineer_a)
    device = TOTPDevice.objects.get(user=engineer_a)
    response = client.post(VERIFY, {"code": code_for(device, later=-10)})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert client.session[two_factor.STATE] == two_factor.PENDING
    assert client.get(MY_WORK).status_code == 302  # the second step is still owed
