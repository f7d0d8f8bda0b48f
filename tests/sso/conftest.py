"""A real OpenID Connect provider on loopback (tests/oidc_idp), started once per session, and
a browser-like HTTP client (requests, cookies kept) that signs in at it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sso import providers
from sso.config import Provider
from tests.conftest import register_secret
from tests.oidc_idp.serve import CLIENT_ID, CLIENT_SECRET, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "/accounts/sso/callback/"


@dataclass(frozen=True)
class IdP:
    url: str
    issuer: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def idp(live_server, tmp_path_factory):
    """django-oauth-toolkit's OpenID Connect provider in its own process, with a fresh RSA key
    and the portal's live server registered as its client."""
    # Neither the portal's logs nor the provider's (idp.log, searched at the end of the run)
    # may hold the client secret or a password typed at the provider.
    register_secret(CLIENT_SECRET, "OIDC client secret")
    register_secret(PASSWORD, "password")
    home = tmp_path_factory.mktemp("idp")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "IDP_DATABASE": str(home / "idp.sqlite3"),
        "IDP_RSA_KEY": pem,
        "IDP_ISSUER": f"{url}/o",
        "PYTHONPATH": str(ROOT),
    }
    log = home / "idp.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_idp.serve", str(port), live_server.url + CALLBACK],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/o/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test identity provider did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield IdP(url=url, issuer=f"{url}/o", log=log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def provider(idp: IdP, **overrides) -> Provider:
    fields = {
        "slug": "customer",
        "name": "Customer IdP",
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "domains": ("customer.example",),
        **overrides,
    }
    return Provider(**fields)


@pytest.fixture
def sso_settings(idp, settings):
    """Three providers at the one test provider: the subscriber's, the vendor's, and one
    configured with another issuer (its endpoints given, so no discovery is asked)."""
    o = f"{idp.url}/o"
    settings.SSO_PROVIDERS = (
        provider(idp),
        provider(idp, slug="vendor", name="Vendor IdP", domains=("vendor.example",), vendor=True),
        provider(
            idp,
            slug="rogue",
            name="Rogue IdP",
            issuer=f"{idp.url}/not-this-issuer",
            domains=("rogue.example",),
            endpoints={
                "authorization_endpoint": f"{o}/authorize/",
                "token_endpoint": f"{o}/token/",
                "userinfo_endpoint": f"{o}/userinfo/",
                "jwks_uri": f"{o}/.well-known/jwks.json",
            },
        ),
    )
    providers._cache.clear()
    return settings


class Browser(requests.Session):
    """requests with cookies, redirects followed by hand where a test looks in between."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def url(self, path: str) -> str:
        return urljoin(self.base, path)

    def to_provider(self, path: str) -> str:
        """Opens a portal URL that starts signing in; the provider's authorization URL."""
        response = self.get(self.url(path), allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def sign_in_at_provider(self, authorize_url: str, username: str) -> str:
        """Signs in at the provider as `username`; the portal callback URL it answers with."""
        response = self.get(authorize_url, allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        login_url = urljoin(authorize_url, response.headers["Location"])
        page = self.get(login_url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        next_url = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
        response = self.post(
            login_url,
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": PASSWORD,
                "next": next_url.replace("&amp;", "&"),
            },
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:500]
        response = self.get(urljoin(login_url, response.headers["Location"]), allow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def csrf(self) -> str:
        return self.cookies.get("csrftoken", domain=None) or ""


@pytest.fixture
def visitor(live_server):
    with Browser(live_server.url) as session:
        yield session
