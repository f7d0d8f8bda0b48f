from django.apps import AppConfig


class SsoConfig(AppConfig):
    """Single sign-on with OpenID Connect: the identity providers configured by environment
    variables, the sign-in page that sends an address of their domains to them, and the
    callback that signs the person in. No tables: the protocol is mozilla-django-oidc's,
    accounts are matched or created by engagements' services."""

    name = "sso"
    verbose_name = "Single sign-on"
