"""Starts the test identity provider: migrates its SQLite file, registers the portal as a
client and the people below, then serves on 127.0.0.1:<port> until killed.

    python -m tests.oidc_idp.serve PORT REDIRECT_URI

Environment: IDP_DATABASE (a file path), IDP_RSA_KEY (PEM), IDP_ISSUER."""

from __future__ import annotations

import os
import sys

PASSWORD = "idp-password-for-tests"
CLIENT_ID, CLIENT_SECRET = "psaas-portal", "portal-client-secret-for-tests"
PEOPLE = [
    # username, email, first name, last name
    ("alice", "alice@customer.example", "Alice", "Customer"),
    ("newcomer", "newcomer@customer.example", "Nora", "Newcomer"),
    ("stranger", "stranger@customer.example", "Sam", "Stranger"),
    ("unverified", "unverified@customer.example", "Una", "Unverified"),
    ("outsider", "outsider@elsewhere.example", "Otto", "Outsider"),
    ("vera", "vera@vendor.example", "Vera", "Vendor"),
    ("victor", "victor@vendor.example", "Victor", "Vendor"),
]


def main() -> None:
    port, redirect_uri = int(sys.argv[1]), sys.argv[2]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_idp.settings"
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import WSGIServer, run
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for username, email, first, last in PEOPLE:
        User.objects.create_user(username, email, PASSWORD, first_name=first, last_name=last)
    Application.objects.create(
        name="PSaaS Portal",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        # The portal's sign-in page, where the provider's sign-out sends the browser back.
        post_logout_redirect_uris=redirect_uri.split("/accounts/")[0] + "/accounts/login/",
        skip_authorization=True,
        algorithm=Application.RS256_ALGORITHM,
    )
    run("127.0.0.1", port, get_wsgi_application(), threading=True, server_cls=WSGIServer)


if __name__ == "__main__":
    main()
