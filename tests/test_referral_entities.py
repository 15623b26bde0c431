"""Entity normalisers and free-text extraction (synthetic identifiers only)."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocsea.demo.referrals import eth_address, imei, tron_address
from ocsea.referrals.entities import (
    ip_is_shared,
    norm_bank_account,
    norm_crypto,
    norm_device,
    norm_email,
    norm_hash,
    norm_ip,
    norm_phone,
    norm_promptpay,
    norm_screen_name,
    norm_url,
    promptpay_id_checks,
)
from ocsea.referrals.extract import extract


@pytest.mark.parametrize(
    "raw", ["081-555-0100", "0815550100", "+66 81 555 0100", "+66-81-555-0100", "0066815550100",
            "๐๘๑ ๕๕๕ ๐๑๐๐", "(081) 555 0100"]
)  # fmt: skip
def test_thai_phone_spellings_meet(raw):
    p = norm_phone(raw)
    assert p is not None and p.e164 == "+66815550100" and p.region == "TH"


def test_foreign_phone_and_country_code_field():
    assert norm_phone("+1 202 555 0123").e164 == "+12025550123"
    assert norm_phone("202 555 0123", country_code="1").e164 == "+12025550123"
    assert norm_phone("12") is None and norm_phone("not a phone") is None


# No deadline: the first call loads phonenumbers' metadata for a region (264 ms once, on a busy
# machine), the rest take a fraction of a millisecond.
@settings(deadline=None)
@given(st.text(alphabet="0123456789 -+()๐๑๒๓๔๕๖๗๘๙", max_size=25))
def test_phone_normalisation_is_idempotent(raw):
    p = norm_phone(raw)
    if p is not None:
        assert norm_phone(p.e164) == p


def test_email_forms():
    assert norm_email("Trader.K+files@Example.NET") == "trader.k@example.net"
    assert norm_email("a.b.c@gmail.com") == norm_email("abc+x@googlemail.com") == "abc@gmail.com"
    assert norm_email("someone (at) example [.] org") == "someone@example.org"
    assert norm_email("no-at-sign.example.com") is None and norm_email("@example.com") is None


@given(st.emails())
def test_email_normalisation_is_idempotent(raw):
    v = norm_email(raw)
    if v is not None:
        assert norm_email(v) == v


def test_ip_forms():
    assert norm_ip("192.000.002.010") == "192.0.2.10"
    assert norm_ip("192.0.2.10:6346") == "192.0.2.10"
    assert norm_ip("2001:DB8:0:0:0:0:0:17") == norm_ip("[2001:db8::17]:443") == "2001:db8::17"
    assert norm_ip("::ffff:192.0.2.5") == "192.0.2.5"
    assert norm_ip("192.0.2.256") is None and norm_ip("hello") is None
    assert ip_is_shared("10.1.2.3") and ip_is_shared("100.64.0.1") and not ip_is_shared("192.0.2.1")


@given(st.ip_addresses())
def test_ip_normalisation_is_idempotent(ip):
    v = norm_ip(str(ip))
    assert v is not None and norm_ip(v) == v


def test_url_defanged_and_domain():
    assert norm_url("hxxps://www.Files.Example[.]net:443/a?b=1#frag") == (
        "files.example.net/a?b=1",
        "files.example.net",
    )
    assert norm_url("not a url") is None


@given(
    st.from_regex(r"https?://[a-z]{1,10}\.example\.(com|org)(/[a-z0-9]{0,8}){0,3}", fullmatch=True)
)
def test_url_normalisation_is_idempotent(raw):
    url, host = norm_url(raw)
    assert norm_url(url) == (url, host)


def test_hashes():
    assert norm_hash("D41D8CD98F00B204E9800998ECF8427E") == (
        "md5",
        "d41d8cd98f00b204e9800998ecf8427e",
    )
    assert norm_hash("urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ") == (
        "sha1",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    )
    assert norm_hash("d41d8cd98f00b204e9800998ecf8427e", declared="SHA1") is None
    assert norm_hash("xyz") is None


def test_crypto_checksums():
    rng = random.Random(3)
    for make, chain in ((tron_address, "trx"), (eth_address, "eth")):
        addr = make(rng)
        assert norm_crypto(addr)[0] == chain
        broken = addr[:-1] + ("A" if addr[-1] != "A" else "B")
        assert norm_crypto(broken) is None, (chain, broken)
    assert norm_crypto("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq") == (
        "btc",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    )
    assert norm_crypto("1BoatSLRHtKNngkdXEeobR76b53LETtpyT")[0] == "btc"
    assert norm_crypto("1BoatSLRHtKNngkdXEeobR76b53LETtpyX") is None


def test_payment_ids():
    assert norm_promptpay("081-555-0107") == "+66815550107"
    assert norm_promptpay("1101700230708") == "1101700230708"  # checksum digit 8 is right
    # a wrong checksum is still the id the document wrote; the extractor flags it
    assert norm_promptpay("1101700230705") == "1101700230705"
    assert not promptpay_id_checks("1101700230705") and promptpay_id_checks("1101700230708")
    assert norm_promptpay("0066815550108") == norm_promptpay("66815550108") == "+66815550108"
    assert norm_bank_account("123-4-56789-0") == "1234567890"
    assert norm_bank_account("12345") is None


def test_accounts_and_devices():
    assert norm_screen_name("ChatApp", "@Night_Owl") == norm_screen_name("chatapp.com", "night_owl")
    assert norm_screen_name("ChatApp", "x") != norm_screen_name("PhotoShare", "x")
    dev = imei(random.Random(1))
    assert norm_device("IMEI", dev) == f"imei|{dev}"
    assert norm_device("IMEI", dev[:-1] + str((int(dev[-1]) + 1) % 10)) is None


def test_free_text_extraction():
    rng = random.Random(5)
    wallet = tron_address(rng)
    text = (f"pay to {wallet} or พร้อมเพย์ ๐๘๑-๕๕๕-๐๑๐๗; KBank acc 123-4-56789-0; "
            "mail trader(at)example.net; see hxxp://files.example[.]net/x from 192.0.2.77 "
            "file d41d8cd98f00b204e9800998ecf8427e, call +1 202 555 0123")  # fmt: skip
    got = {(m.kind, m.value) for m in extract(text, "$.additionalInformations")}
    assert ("crypto", f"trx|{wallet}") in got
    assert ("promptpay", "+66815550107") in got and ("phone", "+66815550107") in got
    assert ("bank_account", "1234567890") in got
    assert ("email", "trader@example.net") in got
    assert ("url", "files.example.net/x") in got and ("domain", "files.example.net") in got
    assert ("ip", "192.0.2.77") in got and ("md5", "d41d8cd98f00b204e9800998ecf8427e") in got
    assert ("phone", "+12025550123") in got
    assert not any(
        k == "phone" and v.endswith("1234567890") for k, v in got
    )  # the account is no phone


@given(st.text(max_size=300))
def test_extraction_never_fails(text):
    for m in extract(text, "f"):
        assert m.kind and m.value


@given(st.binary(max_size=400), st.sampled_from(["a.json", "a.xml", "a.csv", "a.txt"]))
def test_any_bytes_import_or_are_rejected_cleanly(data, name):
    from ocsea.referrals.formats import parse_document
    from ocsea.referrals.model import ReferralError

    try:
        parsed = parse_document(name, data)
    except ReferralError as exc:
        assert name in str(exc) or "format" in str(exc)
    else:
        assert all(r.report_id for r in parsed.referrals)


def test_deep_nesting_is_rejected_not_a_crash():
    from ocsea.referrals.formats import parse_document
    from ocsea.referrals.model import ReferralError

    with pytest.raises(ReferralError, match="nested too deeply"):
        parse_document("deep.json", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ReferralError):
        parse_document("deep.xml", b"<report>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</report>")


@given(st.ip_addresses())
def test_the_fast_shared_address_check_agrees_with_the_parsed_one(ip):
    from ocsea.referrals.entities import _ip_is_shared_parsed, ip_is_shared

    value = norm_ip(str(ip))
    assert ip_is_shared(value) == _ip_is_shared_parsed(value)


@pytest.mark.parametrize("v", ["10.1.2.3", "100.64.0.1", "100.127.255.255", "100.128.0.1", "172.16.0.1",
                               "172.32.0.1", "192.168.1.1", "169.254.0.1", "127.0.0.1", "224.0.0.1", "8.8.8.8"])  # fmt: skip
def test_the_fast_shared_address_check_at_the_edges(v):
    from ocsea.referrals.entities import _ip_is_shared_parsed, ip_is_shared

    assert ip_is_shared(v) == _ip_is_shared_parsed(v)
