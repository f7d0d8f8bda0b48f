"""A real OpenID Connect provider for the single sign-on tests: a second Django project
(django-oauth-toolkit's provider, a dev dependency only), started once per test session on
127.0.0.1 by tests/sso/conftest.py, with its own SQLite file and an RSA key made at start."""
