"""raci_matrix output in each format, the import round trip, and each bad input of the import."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from raci.matrix import MatrixFormatError, from_csv, parse_cell
from raci.models import Party, RaciTemplate, TemplateCell, TemplateTask, TemplateVersion
from raci.services import hygiene_findings, load_seed_template, version_matrix

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def db_snapshot() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (RaciTemplate, TemplateVersion, TemplateTask, TemplateCell, Party)
    )


@pytest.fixture
def seeded():
    return load_seed_template()


def test_csv_has_the_header_and_one_row_per_task(seeded):
    lines = run("raci_matrix", "--format", "csv").splitlines()
    assert lines[0] == "task,Auth0,Subscriber,notes"
    assert len(lines) == 13
    assert lines[2].startswith(
        'Deployment to Development and Production environments,"R, A - Auth0 Customer Success Engineer",I,'
    )
    assert lines[6].startswith('Backing Up,I (in the event that there are issues),"R, A",')
    assert lines[8].startswith(
        'User Migration (if required),"C, I (in the event that there are issues)","R, A",'
    )


def test_json_carries_the_same_as_fields(seeded):
    data = json.loads(run("raci_matrix", "--format", "json"))
    backing_up = data["tasks"][5]
    assert backing_up["name"] == "Backing Up"
    assert backing_up["cells"]["Auth0"] == {
        "letters": ["I"],
        "role_title": "",
        "condition": "in the event that there are issues",
        "text": "I (in the event that there are issues)",
    }
    assert data["parties"] == [
        {"name": "Auth0", "is_vendor": True},
        {"name": "Subscriber", "is_vendor": False},
    ]


def test_table_is_readable_in_a_terminal(seeded):
    table = run("raci_matrix", "--format", "table")
    assert table.splitlines()[0] == "PSaaS Appliance v1"
    assert "Operations Handover" in table
    assert len(table.splitlines()) == 15


def test_engagement_matrix_prints_the_engagements_copy(engagement_a):
    csv_text = run("raci_matrix", "--engagement", str(engagement_a.pk), "--format", "csv")
    assert csv_text == run("raci_matrix", "--format", "csv")
    data = json.loads(run("raci_matrix", "--engagement", str(engagement_a.pk), "--format", "json"))
    assert set(data["tasks"][0]["status"]) == {"development", "production"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--engagement", "999999"], "No engagement with id 999999"),
        (["--template", "Nope"], "No published version of template 'Nope'"),
        (["--template-version", "1"], "--template-version needs --template"),
    ],
)
def test_matrix_command_bad_arguments(seeded, args, message):
    with pytest.raises(CommandError, match=message):
        run("raci_matrix", *args)


def test_import_round_trip_is_identical(seeded, tmp_path):
    exported = run("raci_matrix", "--format", "csv")
    path = tmp_path / "matrix.csv"
    path.write_text(exported)
    out = run("import_raci_template", str(path), "--name", "PSaaS Appliance")
    assert "as PSaaS Appliance v2 (draft)" in out
    again = run(
        "raci_matrix", "--template", "PSaaS Appliance", "--template-version", "2", "--format", "csv"
    )
    assert again == exported
    # Tracking and descriptions, which CSV does not carry, come from the previous version.
    draft = TemplateVersion.objects.get(number=2)
    assert version_matrix(draft).rows == [*version_matrix(seeded).rows]


def test_json_import_creates_a_new_template(seeded, tmp_path):
    path = tmp_path / "matrix.json"
    path.write_text(run("raci_matrix", "--format", "json"))
    run("import_raci_template", str(path), "--name", "Copy", "--publish")
    copy = TemplateVersion.objects.latest_published("Copy")
    assert version_matrix(copy).rows == version_matrix(seeded).rows


GOOD_HEADER = "task,Vendor,Subscriber,notes\n"


@pytest.mark.parametrize(
    "content, message",
    [
        (GOOD_HEADER + "Install,R X,I,\n", "line 2, column 2 (Vendor): unknown letter 'R X'"),
        (GOOD_HEADER + 'Install,"R, Q",I,\n', "line 2, column 2 (Vendor): unknown letter 'Q'"),
        (GOOD_HEADER + "Install,R,,\n", "line 2, column 3 (Subscriber): the cell is empty"),
        (
            GOOD_HEADER + "Install,R,I,\nInstall,C,R,\n",
            "line 3, column 1 (task): duplicate task 'Install' (first on line 2)",
        ),
        (GOOD_HEADER + "Install,R,\n", "line 2: 3 columns, expected 4"),
        ("task,Vendor,notes\nInstall,R,I,x\n", "line 2: 4 columns, expected 3"),
        ("name,Vendor,Subscriber,notes\nInstall,R,I,\n", "line 1: the header must be task,<party>"),
        (GOOD_HEADER + 'Install,"R, R",I,\n', "the letter R is given twice"),
        (
            GOOD_HEADER + "Install,R (in the event that there are issues),I,\n",
            "a condition can only qualify C or I",
        ),
        ("", "the file is empty"),
        (GOOD_HEADER, "the file has a header but no tasks"),
    ],
)
def test_bad_csv_names_line_and_column_and_changes_nothing(seeded, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    before = db_snapshot()
    with pytest.raises(CommandError) as excinfo:
        run("import_raci_template", str(path), "--name", "Imported")
    assert message in str(excinfo.value)
    assert "Nothing was imported" in str(excinfo.value)
    assert db_snapshot() == before


def test_a_file_that_is_not_csv_is_refused(seeded, tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    before = db_snapshot()
    with pytest.raises(CommandError, match=r"not UTF-8 text|binary"):
        run("import_raci_template", str(path), "--name", "Imported")
    assert db_snapshot() == before


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        run("import_raci_template", str(tmp_path / "nope.csv"), "--name", "X")


def test_bad_json_is_refused(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_raci_template", str(path), "--name", "X")


@pytest.mark.parametrize(
    "text, letters, role, condition",
    [
        ("R, A - Auth0 Customer Success Engineer", "RA", "Auth0 Customer Success Engineer", ""),
        (
            "C, I (in the event that there are questions/issues)",
            "CI",
            "",
            "in the event that there are questions/issues",
        ),
        ("I, C", "CI", "", ""),
        (" A,R ", "RA", "", ""),
    ],
)
def test_parse_cell(text, letters, role, condition):
    cell = parse_cell(text)
    assert (cell.letters, cell.role_title, cell.condition) == (letters, role, condition)


def test_parse_reports_every_problem_at_once():
    with pytest.raises(MatrixFormatError) as excinfo:
        from_csv(GOOD_HEADER + "A,Z,I,\nB,R,,\n")
    assert len(excinfo.value.problems) == 2


def test_hygiene_findings_of_the_seed(seeded):
    findings = hygiene_findings(version_matrix(seeded))
    no_a = sorted(f.task for f in findings if f.message.startswith("No Accountable"))
    assert no_a == [
        "Configuration of Development and Production environments",
        "Issue Resolution",
        "Operations Handover",
    ]
    assert [f.task for f in findings if "more than one responsible" in f.message.lower()] == [
        "Updates"
    ]


def test_fixture_file_is_the_json_format():
    from django.conf import settings

    data = json.loads(
        (Path(settings.BASE_DIR) / "fixtures" / "psaas-appliance-raci.json").read_text()
    )
    assert len(data["tasks"]) == 12
