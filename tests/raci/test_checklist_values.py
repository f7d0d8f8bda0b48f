"""Each kind of checklist value: accepted and normalised, or refused with the item named."""

from __future__ import annotations

import datetime as dt

import pytest

from raci.checklist_values import (
    ChecklistSpec,
    ValueRefused,
    check_spec,
    check_tick,
    form_values,
    parse_value,
    parse_vms,
)

TODAY = dt.date(2026, 11, 30)


def spec(kind: str, label: str = "Item", **more) -> ChecklistSpec:
    return ChecklistSpec(key="item", label=label, kind=kind, **more)


def parse(s: ChecklistSpec, value):
    return parse_value(s, value, today=TODAY)


VALID = [
    (spec("count", min_value=4, max_value=64), "8", {"number": 8}, "8"),
    (spec("count"), " 0 ", {"number": 0}, "0"),
    (spec("size_gb"), "200 GB", {"number": 200}, "200 GB"),
    (spec("address"), "LB.Example.com.", {"address": "lb.example.com"}, "lb.example.com"),
    (spec("address"), "2001:DB8::1", {"address": "2001:db8::1"}, "2001:db8::1"),
    (
        spec("cidr_list"),
        "10.20.0.0/24,\n10.30.0.0/16 10.20.0.0/24",
        {"networks": ["10.20.0.0/24", "10.30.0.0/16"]},
        "10.20.0.0/24, 10.30.0.0/16",
    ),
    (
        spec("certificate"),
        {"subject": "CN=login.example.com", "expires": "2026-11-30"},  # valid through today
        {"subject": "CN=login.example.com", "expires": "2026-11-30"},
        "CN=login.example.com, expires 2026-11-30",
    ),
    (
        spec("dns_records"),
        "login.example.com cname lb.example.com\n\n*.example.com A 10.0.0.4",
        {"records": ["login.example.com CNAME lb.example.com", "*.example.com A 10.0.0.4"]},
        "login.example.com CNAME lb.example.com; *.example.com A 10.0.0.4",
    ),
    (
        spec("host_port"),
        {"host": "smtp.example.com", "port": "587"},
        {"host": "smtp.example.com", "port": 587},
        "smtp.example.com:587",
    ),
    (
        spec("host_port"),
        {"host": "2001:db8::25", "port": "25"},
        {"host": "2001:db8::25", "port": 25},
        "[2001:db8::25]:25",
    ),
    (
        spec("access"),
        {"method": "jumphost", "address": "jump.example.com"},
        {"method": "jumphost", "address": "jump.example.com"},
        "Jumphost jump.example.com",
    ),
    (spec("text"), "  anything  ", {"text": "anything"}, "anything"),
]


@pytest.mark.parametrize(("s", "value", "parts", "display"), VALID)
def test_valid_values_are_normalised(s, value, parts, display):
    parsed = parse(s, value)
    assert (parsed.parts, parsed.display) == (parts, display)
    # What is stored is shown again in the inputs, and reads back the same.
    assert parse(s, form_values(s, parsed.parts)) == parsed


REFUSED = [
    (spec("count", "Processors"), "4.5", "Processors: must be a whole number"),
    (spec("count", "Processors", min_value=4), "2", "Processors: 2 is below the minimum of 4"),
    (spec("count", "Processors", max_value=64), "65", "Processors: 65 is above the maximum of 64"),
    (spec("size_gb", "Memory"), "0", "Memory: 0 is below the minimum of 1"),
    (spec("size_gb", "Memory"), "32 TB", "Memory: must be a whole number of GB"),
    (spec("address", "Load balancer address"), "lb dev", "Load balancer address: not a host"),
    (spec("address", "Load balancer address"), "-lb.example.com", "not a host name or IP"),
    (spec("address", "Load balancer address"), "1.2.3.4.5", "not a host name or IP"),
    (spec("cidr_list", "Networks"), "10.20.0.0/33", "Networks: 10.20.0.0/33 is not a network"),
    (spec("cidr_list", "Networks"), "10.0.0.0/8 x", "Networks: x is not in CIDR notation"),
    (
        spec("certificate", "SSL certificate"),
        {"subject": "CN=a", "expires": "2026-01-02"},
        "SSL certificate: the certificate expired on 2026-01-02",
    ),
    (
        spec("certificate", "SSL certificate"),
        {"subject": "CN=a", "expires": "2027-02-30"},
        "SSL certificate: '2027-02-30' is not a date",
    ),
    (
        spec("certificate", "SSL certificate"),
        {"subject": "", "expires": "2027-01-01"},
        "give both the certificate's subject and its expiry date",
    ),
    (
        spec("dns_records", "DNS records"),
        "login.example.com",
        "record 1 ('login.example.com') is not",
    ),
    (
        spec("dns_records", "DNS records"),
        "10.0.0.1 A 10.0.0.1",
        "record 1: '10.0.0.1' is not a host",
    ),
    (spec("dns_records", "DNS records"), "a.example.com AAAA 10.0.0.1", "not a valid AAAA value"),
    (spec("dns_records", "DNS records"), "a.example.com CNAME 10.0.0.1", "not a valid CNAME value"),
    (
        spec("host_port", "SMTP server"),
        {"host": "smtp.example.com", "port": "0"},
        "SMTP server: port must be 1–65535",  # noqa: RUF001
    ),
    (
        spec("host_port", "SMTP server"),
        {"host": "smtp.example.com", "port": "http"},
        "SMTP server: port must be",
    ),
    (
        spec("host_port", "SMTP server"),
        {"host": "", "port": "25"},
        "SMTP server: the host is missing",
    ),
    (
        spec("access", "Vendor access"),
        {"method": "", "address": "jump.example.com"},
        "Vendor access: choose a jumphost or a VPN",
    ),
    (spec("access", "Vendor access"), {"method": "vpn", "address": ""}, "the address is not"),
    (spec("text", "Notes"), "x" * 501, "Notes: at most 500 characters"),
    (spec("text", "Notes"), "two\nlines", "Notes: value must be one line"),
]


@pytest.mark.parametrize(("s", "value", "message"), REFUSED)
def test_refused_values_name_the_item(s, value, message):
    with pytest.raises(ValueRefused) as refused:
        parse(s, value)
    assert message in refused.value.message
    assert refused.value.message.startswith(s.label + ":")


def test_nothing_entered_is_no_value_and_a_tick_needs_one_when_required():
    s = spec("certificate", "SSL certificate")
    assert parse(s, {"subject": " ", "expires": ""}) is None
    assert parse(s, None) is None
    check_tick(s, None, confirmed=False)
    with pytest.raises(ValueRefused, match="SSL certificate: enter the value before ticking"):
        check_tick(s, None, confirmed=True)
    check_tick(spec("text", required=False), None, confirmed=True)  # a tick alone says it is met


def test_vms():
    vms = parse_vms(
        [
            {
                "name": "app-1",
                "address": "10.0.0.5",
                "processors": "8",
                "memory_gb": "32",
                "storage_gb": "500",
            },
            {"name": "", "address": "", "processors": "", "memory_gb": "", "storage_gb": ""},
        ]
    )
    assert vms == [
        {
            "name": "app-1",
            "address": "10.0.0.5",
            "processors": 8,
            "memory_gb": 32,
            "storage_gb": 500,
        }
    ]
    for row, message in [
        ({"name": "app-1"}, "VM 1 (app-1): the address is missing"),
        (
            {
                "name": "app 1",
                "address": "h",
                "processors": "1",
                "memory_gb": "1",
                "storage_gb": "1",
            },
            "VM 1 (app 1): the name must be",
        ),
        (
            {"name": "a", "address": "h", "processors": "513", "memory_gb": "1", "storage_gb": "1"},
            "VM 1 (a): processors must be a whole number from 1 to 512",
        ),
        (
            {"name": "a", "address": "h!", "processors": "1", "memory_gb": "1", "storage_gb": "1"},
            "VM 1 (a): the address is not a host name or IP address",
        ),
    ]:
        with pytest.raises(ValueRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_vms([row])


@pytest.mark.parametrize(
    ("s", "message"),
    [
        (ChecklistSpec("Bad-Key", "X"), "the key must be"),
        (ChecklistSpec("ok", "X", kind="text", min_value=1), "only a count or a size"),
        (ChecklistSpec("ok", "X", kind="count", min_value=5, max_value=4), "minimum is above"),
        (ChecklistSpec("ok", "X", kind="count", min_value=-1), "must be from 0 to 1000000"),
        (ChecklistSpec("ok", "X" * 81), "the label must be 1 to 80 characters"),
    ],
)
def test_item_definitions(s, message):
    with pytest.raises(ValueRefused, match=message):
        check_spec(s)
