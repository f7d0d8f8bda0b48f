"""Attachments in a real browser: the subscriber attaches a certificate to a checklist item,
the CSE downloads it, and another subscriber is refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from attachments.models import Attachment
from engagements.choices import Environment
from engagements.models import InfrastructureChecklist
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, store_attachments_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CERT = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def attachment_dir(settings, tmp_path):
    store_attachments_in(settings, tmp_path / "attachments")


def test_subscriber_attaches_to_a_checklist_item_cse_downloads_other_subscriber_refused(
    page, engagement_a, engagement_b, engineer_a, engineer_b, cse
):
    checklist = InfrastructureChecklist.objects.get(
        engagement=engagement_a, environment=Environment.PRODUCTION
    )
    item = checklist.items.order_by("position").last()
    sign_in(page, engineer_a.username, PASSWORD)
    page.goto(f"/checklists/{checklist.pk}/")
    files = page.locator("#attachments")
    files.get_by_label("Checklist item").select_option(label=item.label)
    files.get_by_label("Attach a file").set_input_files(
        {"name": "load-balancer.pem", "mimeType": "application/x-pem-file", "buffer": CERT}
    )
    files.get_by_role("button", name="Attach", exact=True).click()
    expect(page.get_by_text("load-balancer.pem attached.")).to_be_visible()
    listed = page.locator("#attachments")
    expect(listed.get_by_role("link", name="load-balancer.pem")).to_be_visible()
    expect(listed).to_contain_text(item.label)
    expect(listed).to_contain_text(f"attached by {engineer_a.get_full_name()}")
    attachment = Attachment.objects.get()
    assert attachment.checklist_item_id == item.pk

    page.context.clear_cookies()
    sign_in(page, cse.username, PASSWORD)
    page.goto(f"/checklists/{checklist.pk}/")
    with page.expect_download() as download_info:
        page.locator("#attachments").get_by_role("link", name="load-balancer.pem").click()
    download = download_info.value
    assert download.suggested_filename == "load-balancer.pem"
    with open(download.path(), "rb") as f:
        assert f.read() == CERT

    page.context.clear_cookies()
    sign_in(page, engineer_b.username, PASSWORD)
    response = page.goto(f"/attachments/{attachment.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    response = page.request.get(f"/attachments/{attachment.pk}/")
    assert response.status == 404 and CERT not in response.body()
    page.goto(f"/checklists/{checklist.pk}/")
    expect(page.get_by_text("load-balancer.pem")).to_have_count(0)
