"""What may be attached: the size and type limits of settings, checked on the upload itself.

A file passes when its extension is in ATTACHMENT_ALLOWED_TYPES, it is at most
ATTACHMENT_MAX_BYTES, and its first bytes agree with the extension (a PDF starts with
%PDF-, a PNG with its signature, a text file is UTF-8 without markup). HTML, SVG, scripts and
executables are refused whatever the settings say: the portal never hands a browser
something it could run. The type the download is served with comes from this table, never
from what the uploading browser claimed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from engagements.errors import DomainError

SNIFF_BYTES = 4096
NAME_MAX = 200

# Refused always: markup a browser renders (and runs scripts in), scripts and executables.
_NEVER = (
    "html htm xhtml xht shtml svg svgz xml xsl js mjs exe dll com bat cmd msi scr sh bash ps1 "
    "vbs vbe jar app apk deb rpm bin elf so dylib php py pl rb cgi jsp asp aspx hta lnk"
)
NEVER = frozenset(_NEVER.split())

PDF, PNG, JPEG, GIF = (
    (b"%PDF-",),
    (b"\x89PNG\r\n\x1a\n",),
    (b"\xff\xd8\xff",),
    (b"GIF87a", b"GIF89a"),
)
ZIP, GZIP = (b"PK\x03\x04", b"PK\x05\x06"), (b"\x1f\x8b",)
TEXT = "text"  # UTF-8 text without markup


@dataclass(frozen=True)
class Kind:
    content_type: str
    magic: tuple[bytes, ...] | str  # leading bytes (any of), or TEXT


KINDS: dict[str, Kind] = {
    "pdf": Kind("application/pdf", PDF),
    "png": Kind("image/png", PNG),
    "jpg": Kind("image/jpeg", JPEG),
    "jpeg": Kind("image/jpeg", JPEG),
    "gif": Kind("image/gif", GIF),
    "webp": Kind("image/webp", (b"RIFF",)),
    "txt": Kind("text/plain; charset=utf-8", TEXT),
    "log": Kind("text/plain; charset=utf-8", TEXT),
    "md": Kind("text/plain; charset=utf-8", TEXT),
    "csv": Kind("text/csv; charset=utf-8", TEXT),
    "json": Kind("application/json", TEXT),
    "yaml": Kind("text/plain; charset=utf-8", TEXT),
    "yml": Kind("text/plain; charset=utf-8", TEXT),
    "pem": Kind("application/x-pem-file", TEXT),
    "crt": Kind("application/x-x509-ca-cert", (b"-----BEGIN", b"0\x82", b"0\x81")),
    "cer": Kind("application/pkix-cert", (b"-----BEGIN", b"0\x82", b"0\x81")),
    "der": Kind("application/pkix-cert", (b"0\x82", b"0\x81")),
    "zip": Kind("application/zip", ZIP),
    "gz": Kind("application/gzip", GZIP),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    "odt": Kind("application/vnd.oasis.opendocument.text", ZIP),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", ZIP),
}
OCTET = "application/octet-stream"
# Content that is refused under any name: executables, and markup in a "text" file.
EXECUTABLE = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")
MARKUP = re.compile(rb"<\s*(!doctype|html|svg|script|iframe|object|embed|body|head)\b", re.I)


@dataclass(frozen=True)
class Checked:
    name: str  # cleaned, for the page and the download's filename
    extension: str
    content_type: str
    size: int


def allowed_extensions() -> list[str]:
    return sorted(e for e in settings.ATTACHMENT_ALLOWED_TYPES if e not in NEVER)


def clean_name(raw: str) -> str:
    """The file's own name, without any folder, control characters or leading dots."""
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: NAME_MAX - len(ext) - 1] + dot + ext) if dot else name[:NAME_MAX]
    return name


def _refuse(message: str) -> DomainError:
    return DomainError(f"File: {message}")


def check_upload(upload: Any) -> Checked:
    """The upload's name, type and size if the limits allow it; else a DomainError whose
    message names the field and says what is allowed. Reads only the first bytes."""
    if upload is None:
        raise _refuse("choose a file to attach.")
    name = clean_name(getattr(upload, "name", ""))
    if not name:
        raise _refuse("the file has no name.")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    allowed = allowed_extensions()
    if extension in NEVER:
        raise _refuse(
            f"{name} is refused: web pages, SVG images, scripts and programs cannot be attached."
        )
    if extension not in allowed:
        raise _refuse(f"{name} is not a type that can be attached; allowed: {', '.join(allowed)}.")
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise _refuse(f"{name} is empty.")
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise _refuse(
            f"{name} is {filesizeformat(size)}; the largest file that can be attached is "
            f"{filesizeformat(limit)}."
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = KINDS.get(extension)
    if head.startswith(EXECUTABLE):
        raise _refuse(f"{name} is a program or script; those cannot be attached.")
    if kind is not None and not _looks_like(head, kind):
        raise _refuse(f"{name} does not look like a .{extension} file; nothing was saved.")
    if kind is None and MARKUP.search(head):
        raise _refuse(f"{name} contains web page markup; it cannot be attached.")
    return Checked(name, extension, kind.content_type if kind else OCTET, size)


def _looks_like(head: bytes, kind: Kind) -> bool:
    magic = kind.magic
    if isinstance(magic, str):  # TEXT
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:  # a multi-byte character cut at the sniff's end
            if exc.start < len(head) - 4:
                return False
            text = head[: exc.start].decode("utf-8")
        return "\x00" not in text and not MARKUP.search(head)
    if magic == (b"RIFF",):
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    return head.startswith(magic)
