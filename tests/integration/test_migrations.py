"""The portal's own migrations apply forwards, back to zero and forwards again on an empty
database (PostgreSQL in CI). Django's and guardian's are theirs to keep reversible."""

from __future__ import annotations

import pytest

from tests.integration.test_backup_restore import fresh_database, manage  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
OURS = ("portal", "engagements", "raci")


def test_our_migrations_forwards_back_and_forwards_again(fresh_database):  # noqa: F811
    url, _ = fresh_database
    forwards = manage(url, "migrate", "--noinput")
    assert forwards.returncode == 0, forwards.stderr
    for app in OURS:
        back = manage(url, "migrate", app, "zero", "--noinput")
        assert back.returncode == 0, f"{app}: {back.stderr[-2000:]}"
    listed = manage(url, "showmigrations", *OURS).stdout
    assert "[X]" not in listed and "[ ]" in listed
    again = manage(url, "migrate", "--noinput")
    assert again.returncode == 0, again.stderr
    assert "[ ]" not in manage(url, "showmigrations", *OURS).stdout
