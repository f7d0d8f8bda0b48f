"""Attachments in S3-compatible object storage: a real S3 API server (moto in server mode)
started on 127.0.0.1 by the test, the portal configured for it the way an operator does
(ATTACHMENT_S3_* variables read by settings.py), django-storages with boto3 talking HTTP to
it: upload, list, download, remove and prune go through the bucket."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from moto.server import ThreadedMotoServer

from attachments.actions import add_attachment, remove_attachment
from attachments.models import Attachment
from tests.attachments.conftest import PDF, upload
from tests.conftest import task_of
from tests.integration.conftest import free_port

pytestmark = pytest.mark.django_db
BUCKET = "portal-attachments"
S3_ENV = {
    "ATTACHMENT_S3_BUCKET": BUCKET,
    "ATTACHMENT_S3_ACCESS_KEY_ID": "portal-test-key",
    "ATTACHMENT_S3_SECRET_ACCESS_KEY": "portal-test-secret",
    "ATTACHMENT_S3_REGION": "eu-west-1",
}


@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def attachments_storage_from_env(env: dict[str, str]) -> dict:
    """STORAGES["attachments"] as settings.py builds it from these variables (a fresh
    process, as at start-up)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['attachments']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "psaas_portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def bucket(s3_server, settings):
    env = {**S3_ENV, "ATTACHMENT_S3_ENDPOINT_URL": s3_server}
    configured = attachments_storage_from_env(env)
    assert configured["BACKEND"] == "storages.backends.s3.S3Storage"
    assert configured["OPTIONS"]["endpoint_url"] == s3_server
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id=S3_ENV["ATTACHMENT_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["ATTACHMENT_S3_SECRET_ACCESS_KEY"],
        region_name=S3_ENV["ATTACHMENT_S3_REGION"],
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    settings.STORAGES = {**settings.STORAGES, "attachments": configured}
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_without_a_bucket_files_are_local_under_the_var_directory():
    configured = attachments_storage_from_env({"PORTAL_VAR_DIR": "/tmp/portal-var-probe"})
    assert configured == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/tmp/portal-var-probe/attachments"},
    }


def test_upload_download_remove_through_the_bucket(
    bucket,
    client_for,
    engagement_a,
    engineer_a,
    cse,
    engineer_b,
    django_capture_on_commit_callbacks,
):
    monitoring = task_of(engagement_a, "monitoring")
    response = client_for(engineer_a).post(
        reverse("attachments:task-upload", args=[monitoring.pk]),
        {"file": upload("backup plan.pdf")},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert keys(bucket) == [f"attachments/{attachment.key}"]
    stored = bucket.get_object(Bucket=BUCKET, Key=f"attachments/{attachment.key}")
    assert stored["Body"].read() == PDF

    response = client_for(cse).get(reverse("attachments:download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    assert (
        client_for(engineer_b)
        .get(reverse("attachments:download", args=[attachment.pk]))
        .status_code
        == 404
    )

    with django_capture_on_commit_callbacks(execute=True):
        remove_attachment(attachment, actor=engineer_a)
    assert keys(bucket) == []


def test_a_refusal_stores_nothing_in_the_bucket_and_prune_finds_orphans(
    bucket, engagement_a, engineer_a
):
    monitoring = task_of(engagement_a, "monitoring")
    with pytest.raises(Exception, match="File:"):
        add_attachment(monitoring, actor=engineer_a, upload=upload("page.html", b"<html></html>"))
    assert keys(bucket) == []
    kept = add_attachment(monitoring, actor=engineer_a, upload=upload("kept.pdf"))
    bucket.put_object(Bucket=BUCKET, Key="attachments/1/orphan/left.pdf", Body=PDF)
    call_command("prune_attachments")
    assert len(keys(bucket)) == 2  # the orphan is younger than a day
    call_command("prune_attachments", "--older-than-hours", "0", "--dry-run")
    assert len(keys(bucket)) == 2
    call_command("prune_attachments", "--older-than-hours", "0")
    assert keys(bucket) == [f"attachments/{kept.key}"]
