"""Every documented referral format read fully, and no bytes that crash a reader (issue 15)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocsea.referrals.extract import extract
from ocsea.referrals.formats import parse_document
from ocsea.referrals.model import ReferralError


def _values(ref, kind: str) -> set[str]:
    return {m.value for m in ref.mentions if m.kind == kind and m.role != "reporting_party"}


def test_the_cybertipline_law_enforcement_csv_export_is_read_without_a_mapping():
    data = (
        "Report ID,Incident Date,ESP,Suspect Name,Suspect Email,Suspect Phone,Suspect Screen Name,"
        "Suspect User ID,Suspect IP,IP Date,Upload File Name,Upload MD5,File Annotations,"
        "Report Annotations,Country,ESP Contact Email,ESP Contact Phone,LE Contact,Additional Info\r\n"
        "900001,2024-01-02T03:04:00Z,ChatApp,A Person,a.person@example.com; other@example.org,"
        "081 555 0101,nick_1,123456,192.0.2.10; 198.51.100.7,2024-01-01T10:00:00Z; 2024-01-01T11:00:00Z,"
        "a.jpg; b.mp4," + "a" * 32 + "; " + "b" * 32 + ",liveStreaming|infant; none,sextortion,TH,"
        "trust@chatapp.example,+1 202 555 0110,Desk (example) desk@police.example,paid by LINE: nick.one\r\n"
    ).encode()
    p = parse_document("le_export.csv", data)
    assert p.format == "csv" and not p.errors
    r = p.referrals[0]
    assert r.report_id == "900001" and r.report_annotations == ["sextortion"]
    assert _values(r, "email") == {"a.person@example.com", "other@example.org"}
    assert _values(r, "phone") == {"+66815550101"}
    assert _values(r, "platform_id") == {"chatapp|123456"}
    assert _values(r, "line_id") == {"nick.one"}
    ips = sorted((m.value, m.at.hour) for m in r.mentions if m.kind == "ip")
    assert ips == [("192.0.2.10", 10), ("198.51.100.7", 11)]  # lined up position by position
    assert [f.annotations for f in r.files] == [["liveStreaming", "infant"], []]
    party = {m.value for m in r.mentions if m.role == "reporting_party"}
    assert {"trust@chatapp.example", "+12025550110", "desk@police.example"} <= party


def test_a_platform_account_export_reads_payout_wallet_and_offsite_contact():
    data = (
        b"case_id,opened_utc,service,account_id,handle,account_email,account_phone,last_login_ip,"
        b"last_login_at,payout_method,payout_account,wallet_address,offsite_contact,signup_country,"
        b"report_reason,moderator_note\n"
        b"PL-1,2024-02-01T00:00:00Z,Example Social,77,Some_Handle,x@example.net,66815550102,"
        b"203.0.113.5,2024-02-01T01:00:00+07:00,promptpay,081-555-0103,,line:Some.Line,TH,"
        b"live_stream|csam_infant,note\n"
        b"PL-2,2024-02-02T00:00:00Z,Example Social,,other,,,,,bank_transfer (Example Bank),"
        b"123-4-56789-0,,,TH,self_produced,\n"
    )
    p = parse_document("accounts.csv", data)
    assert not p.errors and [r.report_id for r in p.referrals] == ["PL-1", "PL-2"]
    a, b = p.referrals
    assert _values(a, "phone") >= {"+66815550102", "+66815550103"}
    assert _values(a, "promptpay") == {"+66815550103"}
    assert _values(a, "line_id") == {"some.line"}
    assert _values(a, "screen_name") == {"examplesocial|some_handle"}
    assert a.report_annotations == ["liveStreaming", "infant"]
    assert _values(b, "bank_account") == {"1234567890"}
    assert b.report_annotations == ["possibleSelfProduction"]


def test_xml_elements_that_carry_their_value_beside_attributes_are_read():
    xml = b"""<report><reportId>5</reportId>
      <incidentSummary><incidentType>x</incidentType><platform>ExampleChat</platform></incidentSummary>
      <reporter><reportingPerson><email verified="true">legal@examplechat.example</email></reportingPerson></reporter>
      <personOrUserReported>
        <personOrUserReportedPerson>
          <email verified="true">Someone@Example.com</email>
          <phone type="Mobile" countryCallingCode="+66">815550104</phone>
        </personOrUserReportedPerson>
        <espUserId>42</espUserId>
      </personOrUserReported></report>"""
    r = parse_document("r.xml", xml).referrals[0]
    assert _values(r, "email") == {"someone@example.com"}
    assert _values(r, "phone") == {"+66815550104"}
    # the platform named once in incidentSummary holds for the sibling person
    assert _values(r, "platform_id") == {"examplechat|42"}
    assert {m.value for m in r.mentions if m.role == "reporting_party"} == {
        "legal@examplechat.example"
    }


def test_a_user_id_without_any_platform_is_marked_as_such():
    xml = b"""<report><reportId>6</reportId><incidentSummary><incidentType>x</incidentType>
      </incidentSummary><personOrUserReported><espUserId>42</espUserId></personOrUserReported></report>"""
    r = parse_document("r.xml", xml).referrals[0]
    assert _values(r, "platform_id") == {"unknown|42"}


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("โทร 0066 81 555 0105", "phone", "+66815550105"),
        ("call 00 66 81 555 0105", "phone", "+66815550105"),
        ("TrueMoney Wallet 66815550106", "phone", "+66815550106"),
        ("บัญชี 081-555-0107", "phone", "+66815550107"),  # a phone by its grouping
        ("เลขบัญชี 123-4-56789-0", "bank_account", "1234567890"),  # an account by its grouping
        ("พร้อมเพย์ 0066815550108", "promptpay", "+66815550108"),
        ("Line ID @Some.One", "line_id", "some.one"),
        ("ไลน์ abc_123", "line_id", "abc_123"),
    ],
)
def test_free_text_identifiers(text, kind, value):
    got = {(m.kind, m.value) for m in extract(text, "f")}
    assert (kind, value) in got, got


def test_a_phone_after_the_thai_word_for_account_is_not_a_bank_account():
    got = {m.kind for m in extract("บัญชี 0815550107", "f")}
    assert "bank_account" not in got and "phone" in got


def test_words_like_online_or_deadline_are_not_line_ids():
    assert not [m for m in extract("deadline: 2024 online: yes", "f") if m.kind == "line_id"]


def test_a_contact_quoted_with_a_reporting_party_is_the_partys():
    ms = extract(
        "forwarded by Partner Hotline (example), contact intake@hotline.example. "
        "suspect wrote to a.b@example.org",
        "f",
    )
    roles = {m.value: m.role for m in ms if m.kind == "email"}
    assert roles == {"intake@hotline.example": "party_text", "a.b@example.org": "text"}


def test_hotline_rows_read_notes_contacts_and_the_handler():
    data = (
        "\ufeffreport_id,received_at,reported_url,reporter_type,notes,reported_contact,handled_by\n"
        "H-1,2024-01-01T00:00:00+07:00,https://www.example.net/u/someone/55,parent,"
        "พร้อมเพย์ 0815550109,โทร 081-555-0110 / LINE: some.one,ทีมรับแจ้ง desk@hotline.example\n"
    ).encode("utf-8")
    p = parse_document("hotline.csv", data)
    assert p.format == "hotline" and not p.errors
    r = p.referrals[0]
    assert _values(r, "url") == {"example.net/u/someone/55", "example.net/u/someone"}
    assert _values(r, "line_id") == {"some.one"} and "+66815550110" in _values(r, "phone")
    assert _values(r, "promptpay") == {"+66815550109"}
    assert [m.role for m in r.mentions if m.value == "desk@hotline.example"] == ["reporting_party"]


def test_a_byte_order_mark_alone_is_an_empty_file():
    for name in ("a.csv", "a.json", "a.xml", "a"):
        with pytest.raises(ReferralError, match="empty"):
            parse_document(name, b"\xef\xbb\xbf")


def test_a_csv_row_with_more_fields_than_its_header_is_rejected_alone():
    data = b"report_id,email\nR1,a@example.com,extra\nR2,b@example.com\n"
    p = parse_document("x.csv", data)
    assert [r.report_id for r in p.referrals] == ["R2"]
    assert len(p.errors) == 1 and "line 2" in p.errors[0]


def test_unknown_columns_are_a_warning_with_the_file():
    p = parse_document("x.csv", b"report_id,email,favourite_colour\nR1,a@example.com,blue\n")
    assert any("x.csv" in w and "favourite_colour" in w for w in p.warnings)


_NAMES = st.sampled_from(["r.json", "r.xml", "r.csv", "r.txt", "report"])
_STRUCTURED = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda kids: st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(["reportId", "email", "phone", "ipCaptureEvent", "uploadedFiles",
                             "personOrUserReported", "espService", "url", "additionalInfo",
                             "incidentSummary", "fileAnnotations", "dateTime", "ipAddress"]),
            kids, max_size=5),
        max_leaves=20,
    ).map(lambda d: json.dumps(d).encode()),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_NAMES, data=_STRUCTURED)
def test_no_bytes_crash_a_reader(name, data):
    """Whatever the bytes, a document is read or rejected with a ReferralError: never another
    exception (which would stop an import and, in the API, answer 500)."""
    with contextlib.suppress(ReferralError):
        parse_document(name, data)


@settings(max_examples=200, deadline=None)
@given(
    header=st.lists(st.sampled_from(["report_id", "Report ID", "email", "Suspect Phone", "ip",
                                     "IP Date", "Upload MD5", "File Annotations", "x", ""]),
                    min_size=1, max_size=6),
    rows=st.lists(st.lists(st.text(max_size=12), max_size=8), max_size=5),
)  # fmt: skip
def test_no_csv_crashes_the_generic_reader(header, rows):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    with contextlib.suppress(ReferralError):
        parse_document("x.csv", buf.getvalue().encode("utf-8"), fmt="csv")


def _ips(doc: dict) -> list[tuple[str, str | None]]:
    r = parse_document("r.json", json.dumps(doc).encode()).referrals[0]
    return sorted(
        (m.value, m.at.isoformat() if m.at else None) for m in r.mentions if m.kind == "ip"
    )


def test_an_ip_time_is_read_to_the_minute_or_not_at_all():
    def person(ev):
        return {
            "reportId": "T",
            "reportedPeople": {"reportedPersons": [{"ipCaptureEvents": ev}]},
        }

    # a date alone would put uses hours apart in one window: the IP is kept without a time
    assert _ips(person([{"ipAddress": "192.0.2.5", "dateTime": "2024-03-05"}])) == [
        ("192.0.2.5", None)
    ]
    # Thai reports write Thailand's clock as ICT
    assert _ips(person([{"ipAddress": "192.0.2.5", "dateTime": "2024-03-05 22:30:00 ICT"}])) == [
        ("192.0.2.5", "2024-03-05T15:30:00+00:00")
    ]
    # several addresses in one capture, and 'ip' + 'time' spellings
    assert [v for v, _ in _ips(person([{"ipAddress": ["192.0.2.6", "192.0.2.7"]}]))] == [
        "192.0.2.6", "192.0.2.7"]  # fmt: skip
    assert _ips(person([{"ip": "192.0.2.8", "time": "2024-03-05T01:00:00Z"}])) == [
        ("192.0.2.8", "2024-03-05T01:00:00+00:00")
    ]


def test_thai_text_written_against_an_address_is_not_part_of_it():
    got = {
        (m.kind, m.value)
        for m in extract("badguy@example.comหรือไลน์ abc_1 https://x.example/u/aหรือ", "f")
    }
    assert ("email", "badguy@example.com") in got and ("url", "x.example/u/a") in got
    assert ("line_id", "abc_1") in got


def test_english_after_line_is_not_an_id_and_bare_long_numbers_are_not_phones():
    assert not extract("contacted via LINE and in line with policy", "f")
    assert not [m for m in extract("order 16175551234 paid", "f") if m.kind == "phone"]
    assert [m.value for m in extract("call 16175550134", "f") if m.kind == "phone"] == [
        "+16175550134"
    ]
