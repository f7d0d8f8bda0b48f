"""The template in fixtures/ is the seed document, cell by cell, note by note."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from raci.choices import Tracking
from raci.models import TemplateVersion
from raci.services import load_seed_template, version_matrix

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "psaas-appliance-raci.json"
# The seed document is kept in the repository, where the fixture's "source" names it.
SEED = Path(settings.BASE_DIR) / json.loads(FIXTURE.read_text(encoding="utf-8"))["source"]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.fail(f"the seed document is missing at {SEED}")
    return SEED.read_text(encoding="utf-8")


def seed_cell_variants(cell) -> set[str]:
    """How the seed writes a cell: a role title after " - " or in parentheses."""
    letters = ", ".join(cell.letters)
    cond = f" ({cell.condition})" if cell.condition else ""
    if not cell.role_title:
        return {letters + cond}
    return {f"{letters} - {cell.role_title}{cond}", f"{letters} ({cell.role_title}){cond}"}


def test_every_row_of_the_seed_table_is_loaded_verbatim_and_in_order(seed_text):
    matrix = version_matrix(load_seed_template())
    assert matrix.party_names == ["Auth0", "Subscriber"]
    assert len(matrix.rows) == 12
    lines = seed_text.splitlines()
    header = lines.index("PSaaS Appliance-Related Tasks or Deliverables Auth0 Subscriber Notes")
    table = lines[header + 1 : header + 13]
    for row, line in zip(matrix.rows, table, strict=True):
        task_cell = row.display_name + (f", {row.description}" if row.description else "")
        assert line.startswith(task_cell + " "), (row.name, line)
        rest = line[len(task_cell) + 1 :]
        expected = {
            f"{vendor} {subscriber} {row.notes}"
            for vendor in seed_cell_variants(row.cells["Auth0"])
            for subscriber in seed_cell_variants(row.cells["Subscriber"])
        }
        assert rest in expected, (row.name, rest)


def test_the_letters_match_the_seed_cell_by_cell():
    matrix = version_matrix(load_seed_template())
    got = {
        row.display_name: (row.cells["Auth0"].text(), row.cells["Subscriber"].text())
        for row in matrix.rows
    }
    issues = "in the event that there are issues"
    assert got == {
        "Preparing VM Infrastructure": ("C", "R, A - subscriber's infrastructure engineer"),
        "Deployment to Development and Production environments": (
            "R, A - Auth0 Customer Success Engineer",
            "I",
        ),
        "Configuration of Development and Production environments": ("C", "R"),
        "Operations Handover": ("R", "C"),
        "Monitoring": ("I", "R, A"),
        "Backing Up": (f"I ({issues})", "R, A"),
        "Code Integration into Applications": (f"C, I ({issues})", "R, A"),
        "User Migration (if required)": (f"C, I ({issues})", "R, A"),
        "Updates": ("R", "R, A"),
        "Testing Updates": ("C, I (in the event that there are questions/issues)", "R, A"),
        "Issue Identification and Support Ticket Submission": ("C", "R, A"),
        "Issue Resolution": ("R", "C"),
    }


def test_texts_of_the_template_come_from_the_seed(seed_text):
    version = load_seed_template()
    for paragraph in (version.general_division + "\n\n" + version.raci_definitions).split("\n"):
        assert paragraph.strip() in seed_text
    assert "Responsible: the assigned party" in version.raci_definitions
    assert "Auth0 is responsible for:" in version.general_division


def test_tracking_follows_the_seed():
    matrix = version_matrix(load_seed_template())
    tracking = {row.name: row.tracking for row in matrix.rows}
    assert [n for n, t in tracking.items() if t == Tracking.PER_ENVIRONMENT] == [
        "Preparing VM Infrastructure",
        "Deployment to Development and Production environments",
        "Configuration of Development and Production environments",
    ]
    assert [row.name for row in matrix.rows if row.is_optional] == ["User Migration"]


def test_loading_twice_is_idempotent():
    first = load_seed_template()
    second = load_seed_template()
    assert first.pk == second.pk
    assert TemplateVersion.objects.count() == 1
    assert first.status == "published" and first.published_at is not None
