"""The client IP helper: X-Forwarded-For is read from the right and never trusted beyond NUM_PROXIES."""

import pytest
from django.test import RequestFactory, override_settings

from termino.shared.client_ip import client_ip, ip_prefix_label, ip_truncate


def request(remote="10.0.0.1", xff=None):
    headers = {"REMOTE_ADDR": remote}
    if xff is not None:
        headers["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **headers)


@override_settings(NUM_PROXIES=0)
def test_without_proxies_the_header_is_ignored():
    assert client_ip(request("203.0.113.7", xff="198.51.100.1")) == "203.0.113.7"


@override_settings(NUM_PROXIES=1)
def test_one_proxy_takes_the_rightmost_entry_whatever_the_client_wrote_before_it():
    assert client_ip(request(xff="198.51.100.9")) == "198.51.100.9"
    # The client sent its own X-Forwarded-For; our proxy appended the real address.
    assert client_ip(request(xff="1.2.3.4, 5.6.7.8, 198.51.100.9")) == "198.51.100.9"
    assert client_ip(request(xff="not-an-ip, 198.51.100.9")) == "198.51.100.9"


@override_settings(NUM_PROXIES=2)
def test_two_proxies_take_the_second_entry_from_the_right():
    assert client_ip(request(xff="6.6.6.6, 198.51.100.9, 10.1.1.1")) == "198.51.100.9"
    # Fewer entries than proxies: all of them were written by our own proxies.
    assert client_ip(request(xff="198.51.100.9")) == "198.51.100.9"


@override_settings(NUM_PROXIES=1)
def test_missing_header_falls_back_to_the_connection_and_garbage_is_none():
    assert client_ip(request("203.0.113.7")) == "203.0.113.7"
    assert client_ip(request("203.0.113.7", xff="")) == "203.0.113.7"
    assert client_ip(request(xff="evil")) is None
    assert client_ip(request(remote="")) is None


@override_settings(NUM_PROXIES=1)
@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("203.0.113.7:4711", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_addresses_are_normalised(forwarded, expected):
    assert client_ip(request(xff=forwarded)) == expected


def test_truncation_keeps_the_network_only():
    assert ip_truncate("203.0.113.77") == "203.0.113.0"
    assert ip_truncate("2001:db8:abcd:12:34::1") == "2001:db8:abcd::"
    assert ip_truncate("203.0.113.0") == "203.0.113.0"  # idempotent
    assert ip_truncate("") is None and ip_truncate("nonsense") is None
    assert ip_prefix_label("203.0.113.77") == "203.0.113.0/24"
    assert ip_prefix_label("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
