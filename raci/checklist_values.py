"""The Infrastructure Checklist's typed values, checked in one place.

A template version lists its checklist items (`ChecklistRequirement`), each with a value
kind. This module says, per kind, which inputs the value is entered in and how it is
parsed and normalised; a value that cannot be accepted raises `ValueRefused` with a
message that names the item ("SSL certificate: the certificate expired on 2026-01-02").
The same rules check the VMs a checklist lists, and the item definitions an admin edits.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from psaas_portal import inputs

from .choices import NUMERIC_KINDS, AccessMethod, ValueKind

# Bounds no value of a kind may pass, whatever the item's own minimum and maximum.
ABSOLUTE_RANGE = {ValueKind.COUNT: (0, 1_000_000), ValueKind.SIZE_GB: (1, 10_000_000)}
MAX_LIST = 50  # networks or DNS records in one item
MAX_TEXT = 500
MAX_VMS = 100
VM_RANGES = {"processors": (1, 512), "memory_gb": (1, 65_536), "storage_gb": (1, 1_000_000)}

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
DNS_TYPES = ("A", "AAAA", "CNAME", "TXT")


class ValueRefused(ValueError):
    """A value (or an item definition) that cannot be accepted; the message names the item."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ChecklistSpec:
    """One checklist item as a template version defines it (and an engagement copies it)."""

    key: str
    label: str
    requirement: str = ""
    kind: str = ValueKind.TEXT
    required: bool = True
    min_value: int | None = None
    max_value: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Part:
    """One input of a value: `name` is the form field suffix and the key in the stored parts."""

    name: str
    label: str
    input_type: str  # number, text, date, select or textarea
    choices: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""


PARTS: dict[str, tuple[Part, ...]] = {
    ValueKind.COUNT: (Part("number", "Number", "number"),),
    ValueKind.SIZE_GB: (Part("number", "Size (GB)", "number"),),
    ValueKind.ADDRESS: (
        Part("address", "Host name or IP address", "text", placeholder="lb.example.com"),
    ),
    ValueKind.CIDR_LIST: (
        Part("networks", "Networks in CIDR, one per line", "textarea", placeholder="10.20.0.0/24"),
    ),
    ValueKind.CERTIFICATE: (
        Part("subject", "Subject", "text", placeholder="CN=login.example.com"),
        Part("expires", "Expires on", "date"),
    ),
    ValueKind.DNS_RECORDS: (
        Part(
            "records",
            "Records, one per line: name, type (A, AAAA, CNAME, TXT), value",
            "textarea",
            placeholder="login.example.com CNAME lb.example.com",
        ),
    ),
    ValueKind.HOST_PORT: (
        Part("host", "Host", "text", placeholder="smtp.example.com"),
        Part("port", "Port", "number"),
    ),
    ValueKind.ACCESS: (
        Part("method", "Through", "select", choices=tuple(AccessMethod.choices)),
        Part("address", "Address", "text", placeholder="jump.example.com"),
    ),
    ValueKind.TEXT: (Part("text", "Value", "text"),),
}


@dataclass(frozen=True)
class Parsed:
    """A normalised value: its parts (JSON-ready) and the line the pages show."""

    parts: dict[str, Any]
    display: str


# --- Addresses --------------------------------------------------------------------------


def host_or_ip(text: str) -> str:
    """A host name or an IP address, normalised (lower case, no trailing dot); ValueError if not."""
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.lower().rstrip(".")
    labels = name.split(".")
    if (
        not name
        or len(name) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # 10.0.0.300 is a malformed address, not a host name
    ):
        raise ValueError(f"{text!r} is not a host name or IP address")
    return name


def _host_name(text: str) -> str:
    """A host name, not an IP address (a DNS record's name, a CNAME target)."""
    name = host_or_ip(text)
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    raise ValueError(f"{text!r} is an IP address, not a host name")


def cidr(text: str) -> str:
    if "/" not in text:
        raise ValueError(f"{text} is not in CIDR notation (address/prefix, e.g. 10.20.0.0/24)")
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"{text} is not a network in CIDR notation") from None
        raise ValueError(f"{text} has host bits set (the network is {network})") from None


# --- Parsers per kind (each takes the stripped parts, returns a Parsed or raises ValueError) --


def _whole(text: str, what: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,12}", text):
        raise ValueError(f"{what} must be a whole number from {low} to {high}")
    number = int(text)
    if not low <= number <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}")
    return number


def _number(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    text = raw["number"]
    if spec.kind == ValueKind.SIZE_GB:
        text = re.sub(r"\s*gb$", "", text, flags=re.IGNORECASE)
    low, high = ABSOLUTE_RANGE[ValueKind(spec.kind)]
    if not re.fullmatch(r"\d{1,12}", text):
        raise ValueError("must be a whole number" + (" of GB" if spec.kind == "size_gb" else ""))
    number = int(text)
    low = max(low, spec.min_value if spec.min_value is not None else low)
    high = min(high, spec.max_value if spec.max_value is not None else high)
    if number < low:
        raise ValueError(f"{number} is below the minimum of {low}")
    if number > high:
        raise ValueError(f"{number} is above the maximum of {high}")
    unit = " GB" if spec.kind == ValueKind.SIZE_GB else ""
    return Parsed({"number": number}, f"{number}{unit}")


def _address(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    try:
        address = host_or_ip(raw["address"])
    except ValueError:
        raise ValueError("not a host name or IP address") from None
    return Parsed({"address": address}, address)


def _cidr_list(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    networks = list(dict.fromkeys(cidr(t) for t in re.split(r"[\s,;]+", raw["networks"]) if t))
    if len(networks) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} networks")
    return Parsed({"networks": networks}, ", ".join(networks))


def _certificate(spec: ChecklistSpec, raw: dict[str, str], today: dt.date) -> Parsed:
    subject, expires_text = raw["subject"], raw["expires"]
    if not subject or not expires_text:
        raise ValueError("give both the certificate's subject and its expiry date")
    if len(subject) > 300:
        raise ValueError("the subject is longer than 300 characters")
    try:
        expires = dt.date.fromisoformat(expires_text)
    except ValueError:
        raise ValueError(f"{expires_text!r} is not a date like 2027-10-01") from None
    if expires < today:
        raise ValueError(f"the certificate expired on {expires.isoformat()}")
    return Parsed(
        {"subject": subject, "expires": expires.isoformat()},
        f"{subject}, expires {expires.isoformat()}",
    )


def _dns_record(line: str, number: int) -> str:
    fields = line.split(None, 2)
    if len(fields) != 3:
        raise ValueError(f"record {number} ({line!r}) is not “name type value”")
    name, kind, value = fields[0].lower(), fields[1].upper(), fields[2].strip()
    wildcard = name.startswith("*.")
    try:
        name = ("*." if wildcard else "") + _host_name(name[2:] if wildcard else name)
    except ValueError:
        raise ValueError(f"record {number}: {name!r} is not a host name") from None
    if kind not in DNS_TYPES:
        raise ValueError(f"record {number}: the type must be one of {', '.join(DNS_TYPES)}")
    try:
        if kind == "A":
            value = str(ipaddress.IPv4Address(value))
        elif kind == "AAAA":
            value = str(ipaddress.IPv6Address(value))
        elif kind == "CNAME":
            value = _host_name(value)
    except ValueError:
        raise ValueError(f"record {number}: {value!r} is not a valid {kind} value") from None
    return f"{name} {kind} {value}"


def _dns_records(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    lines = [line.strip() for line in raw["records"].splitlines() if line.strip()]
    if len(lines) > MAX_LIST:
        raise ValueError(f"at most {MAX_LIST} records")
    records = [_dns_record(line, n) for n, line in enumerate(lines, start=1)]
    return Parsed({"records": records}, "; ".join(records))


def _host_port(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    if not raw["host"]:
        raise ValueError("the host is missing")
    try:
        host = host_or_ip(raw["host"])
    except ValueError:
        raise ValueError("the host is not a host name or IP address") from None
    if not re.fullmatch(r"\d{1,6}", raw["port"]) or not 1 <= int(raw["port"]) <= 65535:
        raise ValueError("port must be 1–65535")  # noqa: RUF001 (the range, as people write it)
    port = int(raw["port"])
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return Parsed({"host": host, "port": port}, shown)


def _access(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    if raw["method"] not in AccessMethod.values:
        raise ValueError("choose a jumphost or a VPN")
    try:
        address = host_or_ip(raw["address"])
    except ValueError:
        raise ValueError("the address is not a host name or IP address") from None
    method = AccessMethod(raw["method"])
    return Parsed({"method": method.value, "address": address}, f"{method.label} {address}")


def _text(spec: ChecklistSpec, raw: dict[str, str]) -> Parsed:
    if len(raw["text"]) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    return Parsed({"text": raw["text"]}, raw["text"])


# --- The entry points --------------------------------------------------------------------


def raw_parts(spec: ChecklistSpec, value: Mapping[str, Any] | str | None) -> dict[str, str]:
    """The value's parts as stripped strings; a plain string fills a one-input kind."""
    parts = PARTS[spec.kind]
    if value is None:
        value = {}
    if isinstance(value, str):
        value = {parts[0].name: value} if len(parts) == 1 else {}
    out = {}
    for part in parts:
        item = value.get(part.name, "")
        item = "" if item is None else str(item)
        try:
            single = inputs.single_line if part.input_type != "textarea" else inputs.multi_line
            out[part.name] = single(item, part.label).strip()
        except inputs.InputError as exc:
            raise ValueRefused(f"{spec.label}: {part.label.lower()} {exc.message}") from None
    return out


def parse_value(
    spec: ChecklistSpec, value: Mapping[str, Any] | str | None, *, today: dt.date
) -> Parsed | None:
    """The normalised value, or None when nothing was entered. Raises ValueRefused."""
    if spec.kind not in PARTS:
        raise ValueRefused(f"{spec.label}: unknown kind of value {spec.kind!r}")
    raw = raw_parts(spec, value)
    if not any(raw.values()):
        return None
    kind = ValueKind(spec.kind)
    try:
        if kind == ValueKind.CERTIFICATE:
            return _certificate(spec, raw, today)
        parser = {
            ValueKind.COUNT: _number,
            ValueKind.SIZE_GB: _number,
            ValueKind.ADDRESS: _address,
            ValueKind.CIDR_LIST: _cidr_list,
            ValueKind.DNS_RECORDS: _dns_records,
            ValueKind.HOST_PORT: _host_port,
            ValueKind.ACCESS: _access,
            ValueKind.TEXT: _text,
        }[kind]
        return parser(spec, raw)
    except ValueError as exc:
        raise ValueRefused(f"{spec.label}: {exc}") from None


def check_tick(spec: ChecklistSpec, parsed: Parsed | None, confirmed: bool) -> None:
    """A tick says the requirement is met: a required value must be there to tick it."""
    if confirmed and spec.required and parsed is None:
        raise ValueRefused(f"{spec.label}: enter the value before ticking it as met")


def form_values(spec: ChecklistSpec, parts: Mapping[str, Any]) -> dict[str, str]:
    """The stored parts as the inputs show them again (lists one per line)."""
    out = {}
    for part in PARTS.get(spec.kind, PARTS[ValueKind.TEXT]):
        value = parts.get(part.name, "")
        out[part.name] = "\n".join(value) if isinstance(value, list) else str(value)
    return out


# --- VMs ---------------------------------------------------------------------------------

VM_FIELDS = ("name", "address", "processors", "memory_gb", "storage_gb")
VM_LABELS = {
    "name": "name",
    "address": "address",
    "processors": "processors",
    "memory_gb": "memory (GB)",
    "storage_gb": "storage (GB)",
}


def parse_vm(raw: Mapping[str, Any], number: int) -> dict[str, Any] | None:
    """One VM row (name, address, processors, memory and storage in GB); None when blank."""
    values = {f: str(raw.get(f) or "").strip() for f in VM_FIELDS}
    if not any(values.values()):
        return None
    where = f"VM {number}" + (f" ({values['name'][:63]})" if values["name"] else "")
    try:
        for f in VM_FIELDS:
            inputs.single_line(values[f], VM_LABELS[f])
            if not values[f]:
                raise ValueError(f"the {VM_LABELS[f]} is missing")
        if not _VM_NAME.match(values["name"]):
            raise ValueError(
                "the name must be letters, digits, dots, dashes or underscores (at most 63)"
            )
        try:
            address = host_or_ip(values["address"])
        except ValueError:
            raise ValueError("the address is not a host name or IP address") from None
        numbers = {f: _whole(values[f], VM_LABELS[f], *VM_RANGES[f]) for f in VM_RANGES}
    except (ValueError, inputs.InputError) as exc:
        raise ValueRefused(f"{where}: {exc}") from None
    return {"name": values["name"], "address": address, **numbers}


def parse_vms(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The VMs of a checklist, blank rows dropped; a name listed twice is refused."""
    vms = [vm for n, row in enumerate(rows, start=1) if (vm := parse_vm(row, n)) is not None]
    if len(vms) > MAX_VMS:
        raise ValueRefused(f"VMs: at most {MAX_VMS}")
    seen: set[str] = set()
    for vm in vms:
        if vm["name"].lower() in seen:
            raise ValueRefused(f"VMs: {vm['name']} is listed twice")
        seen.add(vm["name"].lower())
    return vms


# --- Item definitions (the template editor and imports) -----------------------------------


def check_spec(spec: ChecklistSpec) -> None:
    """An item definition an admin may save; raises ValueRefused naming the item."""
    name = spec.label or spec.key or "A checklist item"
    if not _KEY.match(spec.key):
        raise ValueRefused(
            f"{name}: the key must be 1 to 40 lower-case letters, digits or underscores, starting with a letter"
        )
    if not spec.label.strip() or len(spec.label) > 80:
        raise ValueRefused(f"{name}: the label must be 1 to 80 characters")
    try:
        inputs.single_line(spec.label, "label")
        inputs.multi_line(spec.requirement, "requirement")
    except inputs.InputError as exc:
        raise ValueRefused(f"{name}: the {exc.field} {exc.message}") from None
    if len(spec.requirement) > 2000:
        raise ValueRefused(f"{name}: the requirement is longer than 2000 characters")
    if spec.kind not in ValueKind.values:
        raise ValueRefused(f"{name}: unknown kind of value {spec.kind!r}")
    bounds = (spec.min_value, spec.max_value)
    if spec.kind not in NUMERIC_KINDS:
        if bounds != (None, None):
            raise ValueRefused(f"{name}: only a count or a size has a minimum and a maximum")
        return
    low, high = ABSOLUTE_RANGE[ValueKind(spec.kind)]
    for bound in bounds:
        if bound is not None and (type(bound) is not int or not low <= bound <= high):
            raise ValueRefused(f"{name}: the minimum and maximum must be from {low} to {high}")
    if (
        spec.min_value is not None
        and spec.max_value is not None
        and spec.min_value > spec.max_value
    ):
        raise ValueRefused(f"{name}: the minimum is above the maximum")
