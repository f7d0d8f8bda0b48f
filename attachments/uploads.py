"""Reading an upload no further than the size limit allows.

Django writes an upload larger than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file before
any view sees it, so a limit checked afterwards (attachments.limits) would still let a
gigabyte reach the disk. `limited_uploads` puts `SizeLimit` first among the request's
upload handlers: it stops taking a file's bytes once it is over ATTACHMENT_MAX_BYTES (the
rest of the request body is read and dropped, never stored) and remembers the file's name,
so the view refuses it with the usual message. Upload handlers must be set before the body
is parsed, and the CSRF check parses it: hence csrf_exempt outside and csrf_protect inside
(the pattern Django's documentation gives for per-view upload handlers)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.views.decorators.csrf import csrf_exempt, csrf_protect


class SizeLimit(FileUploadHandler):
    """Passes chunks on to the next handler until a file is over the limit, then stops."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.too_big: str = ""  # the name of the file that was over the limit

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.ATTACHMENT_MAX_BYTES:
            self.too_big = self.file_name or "The file"
            raise StopUpload(connection_reset=False)  # drop the rest, parse no further
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


def limited_uploads(view: Callable) -> Callable:
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
        limit = SizeLimit(request)
        request.upload_handlers.insert(0, limit)
        request.upload_limit = limit
        return protected(request, *args, **kwargs)

    return wrapper
