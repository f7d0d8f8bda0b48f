from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from raci.models import Party, RaciTemplate, TemplateCell, TemplateTask, TemplateVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    version = TemplateVersion.objects.create(
        template=RaciTemplate.objects.create(name="T"), number=1
    )
    return TemplateTask.objects.create(version=version, position=1, name="Task")


@pytest.fixture
def party():
    return Party.objects.create(name="Vendor", is_vendor=True)


def refused(**fields) -> bool:
    try:
        with transaction.atomic():
            TemplateCell.objects.create(**fields)
    except IntegrityError:
        return True
    return False


def test_a_cell_needs_at_least_one_letter(task, party):
    assert refused(task=task, party=party)
    assert not refused(task=task, party=party, informed=True)


def test_a_condition_qualifies_only_c_or_i(task, party):
    assert refused(
        task=task, party=party, responsible=True, condition="in the event that there are issues"
    )
    assert not refused(
        task=task, party=party, consulted=True, condition="in the event that there are issues"
    )


def test_one_cell_per_task_and_party(task, party):
    TemplateCell.objects.create(task=task, party=party, responsible=True)
    assert refused(task=task, party=party, informed=True)


def test_task_order_is_unique_within_a_version(task):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateTask.objects.create(version=task.version, position=1, name="Other")


def test_version_status_is_among_its_choices(task):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=task.version.pk).update(status="archived")


def test_a_published_version_records_when(task):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=task.version.pk).update(status="published")


def test_cell_text_orders_letters_and_adds_role_and_condition(task, party):
    cell = TemplateCell(
        task=task,
        party=party,
        informed=True,
        consulted=True,
        condition="in the event that there are issues",
    )
    assert cell.letters == "CI"
    assert cell.cell_text() == "C, I (in the event that there are issues)"
    cell = TemplateCell(
        task=task,
        party=party,
        accountable=True,
        responsible=True,
        role_title="Auth0 Customer Success Engineer",
    )
    assert cell.cell_text() == "R, A - Auth0 Customer Success Engineer"
