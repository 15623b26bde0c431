"""Referral documents: which format a file is, and its referrals. Pure (bytes in, referrals out).

Formats (docs/referrals.md): ``ncmec`` CyberTipline reports in JSON as law enforcement receives
them; ``cybertip-xml`` reports in the XML platforms submit; ``hotline`` URL reports (INHOPE/ICCAM-
like CSV or JSON); ``csv`` any spreadsheet, through a column mapping.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from xml.etree.ElementTree import Element, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as xml_fromstring

from ocsea.referrals.entities import Mention, norm_ip, norm_url, url_mentions
from ocsea.referrals.model import Referral, ReferralError
from ocsea.referrals.walk import get, key, read_report, scalar, when

FORMATS = ("ncmec", "cybertip-xml", "hotline", "csv")
MAX_DOCUMENT_BYTES = 64 << 20
MAX_RECORDS = 100_000

HOTLINE_KEYS = {"hostingcountry", "classification", "contenttype", "agegroup", "reportedat",
                "iccamid", "iccamreference", "reportedcontact", "reportertype", "handledby"}  # fmt: skip
URL_KEYS = {"url", "reportedurl"}

# Our field → the column names it is known by, compared without case or punctuation ("Report ID"
# is report_id). The defaults read the CyberTipline law-enforcement export ("Suspect Email", "ESP
# Contact Phone" …) and the usual platform account exports (case_id, account_email, payout_account
# …) without a mapping; ``[referrals.csv.columns]`` adds others.
DEFAULT_CSV_COLUMNS: dict[str, list[str]] = {
    "report_id": ["report_id", "reportid", "referral_id", "cybertip_report_id", "ncmec_report_id",
                  "case_id", "reference", "case_ref", "report_number", "id"],
    "received_at": ["received_at", "date_received", "received", "opened_utc", "opened_at",
                    "reported_at", "date_reported", "date"],
    "incident_at": ["incident_date", "incident_datetime", "incident_time"],
    "reporter": ["reporter", "reporting_esp", "esp_name", "esp", "source", "agency"],
    "incident_type": ["incident_type", "type", "offence"],
    "platform": ["platform", "service", "esp_service", "esp"],
    "user_id": ["user_id", "esp_user_id", "suspect_user_id", "account_id", "espuserid"],
    "screen_name": ["screen_name", "suspect_screen_name", "username", "handle"],
    "name": ["suspect_name", "display_name", "full_name", "name"],
    "email": ["email", "suspect_email", "account_email", "email_address"],
    "phone": ["phone", "suspect_phone", "account_phone", "phone_number", "mobile"],
    "ip": ["ip", "suspect_ip", "ip_address", "last_login_ip", "login_ip"],
    "ip_time": ["ip_time", "ip_date", "ip_datetime", "last_login_at", "login_time", "event_time"],
    "url": ["url", "profile_url", "link"],
    "line_id": ["line_id", "line"],
    "offsite_contact": ["offsite_contact", "contact", "external_contact"],
    "payout_method": ["payout_method", "payment_method"],
    "payout_account": ["payout_account", "payment_account"],
    "promptpay": ["promptpay"],
    "bank_account": ["bank_account", "account_number"],
    "wallet": ["wallet_address", "wallet", "crypto_address"],
    "guid": ["guid", "p2p_guid", "client_guid", "peer_id"],
    "md5": ["md5", "upload_md5"],
    "sha1": ["sha1", "upload_sha1"],
    "sha256": ["sha256", "upload_sha256"],
    "file_name": ["file_name", "filename", "upload_file_name"],
    "file_annotations": ["file_annotations", "file_tags"],
    "victim_age": ["victim_age", "child_age", "age"],
    "annotations": ["annotations", "report_annotations", "report_reason", "reasons", "tags",
                    "flags"],
    "escalate": ["escalate", "urgent", "high_priority"],
    "country": ["country", "country_code", "signup_country"],
    "reporter_contact": ["esp_contact_email", "esp_contact_phone", "esp_contact", "le_contact",
                         "reporter_contact", "handled_by"],
    "text": ["text", "notes", "details", "summary", "additional_information", "additional_info",
             "moderator_note", "comments"],
}  # fmt: skip
# Fields read from every column that names them (the others from the first).
MULTI_COLUMN_FIELDS = frozenset({"text", "reporter_contact", "annotations"})
# One cell can hold several values, "; "-separated, lined up position by position with the
# cells of its kin (IP with IP date; file name with MD5 and file annotations).
MULTI_VALUE_SEP = re.compile(r"\s*;\s*")
# Moderation reasons in platform exports, as NCMEC's annotation names (report- or file-level).
REASON_ANNOTATIONS = {
    "sextortion": "sextortion", "csamsolicitation": "csamSolicitation",
    "solicitation": "csamSolicitation", "livestream": "liveStreaming",
    "livestreaming": "liveStreaming", "csaminfant": "infant", "infant": "infant",
    "selfproduced": "possibleSelfProduction", "selfproduction": "possibleSelfProduction",
    "possibleselfproduction": "possibleSelfProduction", "generativeai": "generativeAi",
    "aigenerated": "generativeAi", "viral": "viral", "meme": "potentialMeme",
    "potentialmeme": "potentialMeme", "minortominor": "minorToMinorInteraction",
    "minortominorinteraction": "minorToMinorInteraction",
}  # fmt: skip


@dataclass
class Parsed:
    name: str
    format: str
    data: bytes
    referrals: list[Referral] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # records that were rejected
    warnings: list[str] = field(default_factory=list)  # values that were not readable
    # With a sink, each referral goes there as it is read instead of into ``referrals``: an
    # import stores them in blocks, so a 59 MB document never sits in memory as 99,000 objects.
    sink: Callable[[Referral], None] | None = None
    count: int = 0

    def keep(self, ref: Referral) -> None:
        self.count += 1
        if self.count > MAX_RECORDS:
            raise ReferralError(f"{self.name}: more than {MAX_RECORDS} referrals in one document")
        if self.sink is None:
            self.referrals.append(ref)
        else:
            self.sink(ref)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _json_records(doc) -> list[dict] | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for k in ("reports", "cybertipReports", "referrals", "data", "items"):
            inner = get(doc, k)
            if isinstance(inner, list):
                return inner
        return [doc]
    return None


def _is_hotline(rec: dict) -> bool:
    keys = {key(k) for k in rec} if isinstance(rec, dict) else set()
    return bool(keys & URL_KEYS) and bool(keys & HOTLINE_KEYS) and "reportedinformation" not in keys


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferralError(f"{name}: not UTF-8 text (byte {exc.start})") from None


_WRAPPER = re.compile(r'\s*\{\s*"(?:reports|cybertipReports|referrals|data|items)"\s*:\s*\[', re.I)
_WS = " \t\r\n"


def _load_records(name: str, data: bytes) -> tuple[bool, Iterator] | None:
    """(one report?, the records one at a time). A list of reports, or a wrapper whose first key
    holds the list, is decoded a record at a time: the whole tree of a 37 MB export took 0.5 GB
    and sat beside everything made from it."""
    text = _decode(name, data).lstrip("\ufeff" + _WS)
    try:
        m = _WRAPPER.match(text)
        if text.startswith("[") or m:
            return False, _array_items(name, text, m.end() if m else 1)
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReferralError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    recs = _json_records(doc)
    if recs is None:
        return None
    return (isinstance(doc, dict) and len(recs) == 1 and recs[0] is doc), iter(recs)


def _array_items(name: str, text: str, i: int) -> Iterator:
    dec = json.JSONDecoder()
    n = len(text)

    def skip(j: int) -> int:
        while j < n and text[j] in _WS:
            j += 1
        return j

    i = skip(i)
    if i < n and text[i] == "]":
        return
    while True:
        try:
            obj, i = dec.raw_decode(text, skip(i))
        except json.JSONDecodeError as exc:
            raise ReferralError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
        yield obj
        i = skip(i)
        if i < n and text[i] == ",":
            i += 1
            continue
        if i < n and text[i] == "]":
            return
        line = text.count("\n", 0, i) + 1
        raise ReferralError(f"{name}: not valid JSON: expected ',' or ']' at line {line}")


def _detect(name: str, data: bytes) -> tuple[str, tuple[bool, Iterator] | None]:
    """The format (JSON by its first record), and for JSON the records, decoded once: the
    records read to decide are put back in front of the rest."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lower = name.lower()
    if head.startswith(b"<") or lower.endswith(".xml"):
        return "cybertip-xml", None
    if head[:1] in (b"{", b"[") or lower.endswith(".json"):
        loaded = _load_records(name, data)
        if loaded is None:
            return "ncmec", None
        single, recs = loaded
        seen: list = []
        for r in recs:
            seen.append(r)
            if isinstance(r, dict):
                break
        first = seen[-1] if seen and isinstance(seen[-1], dict) else {}
        return ("hotline" if _is_hotline(first) else "ncmec"), (single, chain(seen, recs))
    # Only the first line is wanted: a window cut inside a Thai character must not make the whole
    # file "not UTF-8" (the full text is decoded strictly when it is read).
    window = data[:4096].decode("utf-8-sig", errors="ignore")
    first_line = window.splitlines()[0] if window else ""
    cols = {key(c) for c in first_line.replace(";", ",").replace("\t", ",").split(",")}
    return ("hotline" if cols & URL_KEYS and cols & HOTLINE_KEYS else "csv"), None


def detect_format(name: str, data: bytes) -> str:
    return _detect(name, data)[0]


def parse_document(name: str, data: bytes, fmt: str = "auto", region: str = "TH",
                   csv_columns: dict[str, list[str]] | None = None,
                   sink: Callable[[Referral], None] | None = None) -> Parsed:  # fmt: skip
    """Every referral in one document (in ``referrals``, or each handed to ``sink`` as it is
    read). A record that cannot be read is listed in ``errors`` and the others still come; a
    document that cannot be read at all raises ``ReferralError``."""
    try:
        return _parse_document(name, data, fmt, region, csv_columns, sink)
    except RecursionError:
        raise ReferralError(f"{name}: nested too deeply to be a report") from None
    except csv.Error as exc:
        raise ReferralError(f"{name}: not readable as CSV: {exc}") from None


def _parse_document(name: str, data: bytes, fmt: str, region: str,
                    csv_columns: dict[str, list[str]] | None,
                    sink: Callable[[Referral], None] | None) -> Parsed:  # fmt: skip
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ReferralError(f"{name}: larger than {MAX_DOCUMENT_BYTES >> 20} MB")
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise ReferralError(f"{name}: empty file")
    loaded = None
    if fmt == "auto":
        fmt, loaded = _detect(name, data)
    if fmt not in FORMATS:
        raise ReferralError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    out = Parsed(name, fmt, data, sink=sink)
    if fmt == "cybertip-xml":
        _parse_xml(out, region)
    elif fmt == "csv":
        _parse_generic_csv(out, region, csv_columns or DEFAULT_CSV_COLUMNS)
    elif fmt == "hotline" and data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        _parse_hotline_rows(out, _csv_rows(name, data), region)
    else:
        if loaded is None:
            loaded = _load_records(name, data)
        if loaded is None:
            raise ReferralError(f"{name}: a report is a JSON object (or a list of them)")
        single, recs = loaded
        if fmt == "hotline":
            _parse_hotline_rows(out, ((f"$[{i}]", r) for i, r in enumerate(recs)), region)
        else:
            _parse_ncmec_json(out, recs, region, single)
    return out


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _read_into(out: Parsed, ref: Referral, tree: dict, region: str) -> None:
    """Fill ``ref`` from its tree and keep it, or record why it could not be read."""
    try:
        ref.warnings = read_report(tree, ref, region)
    except (ValueError, RecursionError) as exc:
        out.errors.append(f"{out.name} {ref.locator} (report {ref.report_id}): {exc}")
        return
    out.warnings += [f"{out.name} report {ref.report_id}: {w}" for w in ref.warnings]
    if ref.unknown_fields:
        out.warnings.append(f"{out.name} report {ref.report_id}: fields not read (kept in the "
                            f"original): {', '.join(ref.unknown_fields[:10])}")  # fmt: skip
    out.keep(ref)


def _parse_ncmec_json(out: Parsed, recs, region: str, single: bool = False) -> None:
    for i, rec in enumerate(recs):
        if i >= MAX_RECORDS:
            raise ReferralError(f"{out.name}: more than {MAX_RECORDS} referrals in one document")
        where = "$" if single else f"$[{i}]"
        if not isinstance(rec, dict):
            out.errors.append(
                f"{out.name} {where}: a report is a JSON object, not {type(rec).__name__}"
            )
            continue
        rid = scalar(get(rec, "reportId", "reportID", "cybertipId", "cyberTiplineReportId", "id"))
        if not rid:
            out.errors.append(f"{out.name} {where}: no reportId")
            continue
        _read_into(out, Referral("ncmec", rid[:200], where, _canonical(rec)), rec, region)


def _to_tree(el: Element) -> dict | str:
    """XML element as a dict: children by local name (repeated ones as lists), attributes as keys,
    text of leaves as strings, empty elements as "" (their presence is the value)."""
    d: dict = {k.split("}")[-1]: v for k, v in el.attrib.items()}
    for child in el:
        tag = str(child.tag).split("}")[-1]
        val = _to_tree(child)
        if tag in d:
            d[tag] = d[tag] + [val] if isinstance(d[tag], list) else [d[tag], val]
        else:
            d[tag] = val
    text = (el.text or "").strip()
    if not d:
        return text
    if text:
        d["#text"] = text
    return d


def _parse_xml(out: Parsed, region: str) -> None:
    try:
        root = xml_fromstring(out.data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise ReferralError(
            f"{out.name}: not valid XML (DTDs and entities are refused): {exc}"
        ) from None
    local = str(root.tag).split("}")[-1]
    reports = (
        [root] if local == "report" else [c for c in root if str(c.tag).split("}")[-1] == "report"]
    )
    if not reports:
        raise ReferralError(f"{out.name}: no <report> element (root is <{local}>)")
    for i, el in enumerate(reports):
        where = "/report" if len(reports) == 1 else f"/*/report[{i + 1}]"
        tree = _to_tree(el)
        if not isinstance(tree, dict) or get(tree, "incidentSummary") is None:
            out.errors.append(f"{out.name} {where}: no incidentSummary")
            continue
        content = tostring(el, encoding="utf-8")
        rid = (
            scalar(get(tree, "reportId", "id")) or "xml-" + hashlib.sha256(content).hexdigest()[:16]
        )
        _read_into(out, Referral("cybertip-xml", rid[:200], where, content), tree, region)


def _csv_table(name: str, data: bytes) -> tuple[list[str], list[tuple[str, dict]]]:
    """(header, [(where, row)]). The delimiter is sniffed from the header line alone: cells of
    free text (commas, semicolons, Thai) must not outvote it."""
    text = _decode(name, data)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delim = max(counts, key=lambda d: (counts[d], d == ","))
    reader = csv.DictReader(io.StringIO(text), delimiter=delim if counts[delim] else ",")
    if not reader.fieldnames or not any((h or "").strip() for h in reader.fieldnames):
        raise ReferralError(f"{name}: no header row")
    header = [h.strip() for h in reader.fieldnames]
    reader.fieldnames = header
    return header, [(f"line {reader.line_num}", row) for row in reader]


def _csv_rows(name: str, data: bytes):
    return _csv_table(name, data)[1]


def _hotline_text(ref: Referral, row: dict, region: str) -> None:
    """Notes and the reported contact (phones, LINE ids, payment ids) as the suspect's; the
    handler's contact block as the hotline's own (never joins)."""
    from ocsea.referrals.extract import extract

    for names, role in ((("notes", "comments", "description"), "text"),
                        (("reported_contact", "reportedContact", "contact"), "reported"),
                        (("handled_by", "handledBy"), "reporting_party")):  # fmt: skip
        text = scalar(get(row, *names))
        if not text:
            continue
        ref.texts.append(text[:20_000])
        ref.mentions += extract(text, names[0], role, region)


def _parse_hotline_rows(out: Parsed, rows: list[tuple[str, dict]], region: str = "TH") -> None:
    for where, row in rows:
        if not isinstance(row, dict) or None in row:
            out.errors.append(f"{out.name} {where}: more fields than the header names")
            continue
        raw_url = scalar(get(row, "url", "reported_url", "reportedUrl"))
        got = norm_url(raw_url) if raw_url else None
        if got is None:
            out.errors.append(
                f"{out.name} {where}: field 'url': missing or not a URL: {raw_url[:80]!r}"
            )
            continue
        content = _canonical(row)
        rid = scalar(get(row, "report_id", "reportId", "iccam_id", "reference", "id"))
        rid = rid or "hotline-" + hashlib.sha256(content).hexdigest()[:16]
        at = when(get(row, "reported_at", "reportedAt", "date", "received_at"))
        ref = Referral("hotline", rid[:200], where, content, received_at=at,
                       reporter=scalar(get(row, "hotline", "reporter", "source"))[:300],
                       incident_type=scalar(get(row, "content_type", "contentType"))[:200])  # fmt: skip
        ref.mentions += url_mentions(got, raw_url, "hosting", "url")
        ip = norm_ip(scalar(get(row, "ip", "hosting_ip", "ip_address")))
        if ip:
            ref.mentions.append(Mention("ip", ip, ip, "hosting", "ip", at))
        country = scalar(get(row, "hosting_country", "hostingCountry", "country")).upper()
        if len(country) == 2:
            ref.countries.append(country)
        ref.hotline = {
            k: scalar(get(row, *names)).lower() or None
            for k, names in (("classification", ("classification",)), ("age_group", ("age_group", "ageGroup")),
                             ("content_type", ("content_type", "contentType")), ("gender", ("gender",)),
                             ("virtual", ("virtual", "is_virtual")))
        }  # fmt: skip
        ref.hotline["hosting_country"] = country or None
        reporter_type = scalar(get(row, "reporter_type", "reporterType"))
        if reporter_type:
            ref.hotline["reporter_type"] = reporter_type[:100]
        _hotline_text(ref, row, region)
        known = {"url", "reportedurl", "reportid", "iccamid", "reference", "id", "reportedat", "date",
                 "receivedat", "hotline", "reporter", "source", "contenttype", "ip", "hostingip",
                 "ipaddress", "hostingcountry", "country", "classification", "agegroup", "gender",
                 "virtual", "isvirtual", "notes", "comments", "description", "reportedcontact",
                 "contact", "handledby", "reportertype"}  # fmt: skip
        ref.unknown_fields = [k for k in row if key(k) not in known][:50]
        out.keep(ref)


def resolve_csv_columns(header: list[str], columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """Our field → the file's columns, names compared without case or punctuation; every
    matching column for the fields in ``MULTI_COLUMN_FIELDS``, the first alias otherwise."""
    by_key: dict[str, list[str]] = {}
    for h in header:
        if h is not None:
            by_key.setdefault(key(h), []).append(h)
    out: dict[str, list[str]] = {}
    for fld, names in columns.items():
        found: list[str] = []
        for n in names:
            for col in by_key.get(key(n), []):
                if col not in found:
                    found.append(col)
            if found and fld not in MULTI_COLUMN_FIELDS:
                break
        if found:
            out[fld] = found
    return out


def _cells(val: str) -> list[str]:
    return [c for c in MULTI_VALUE_SEP.split(val.strip()) if c] if val else []


def _annotation_names(text: str) -> list[str]:
    out = []
    for part in re.split(r"[|,;/]+", text or ""):
        name = REASON_ANNOTATIONS.get(key(part))
        if name and name not in out:
            out.append(name)
    return out


_PAYOUT = (("promptpay", "promptpay"), ("พร้อมเพย์", "promptpay"), ("bank", "bankAccount"),
           ("ธนาคาร", "bankAccount"), ("truemoney", "phone"), ("wallet", "phone"))  # fmt: skip


def _row_person(val: dict[str, str]) -> dict:
    """One CSV row's reported person, as the tree the report reader walks."""
    person: dict = {
        "espService": val.get("platform", ""), "espUserId": val.get("user_id"),
        "screenName": val.get("screen_name"), "email": _cells(val.get("email", "")),
        "phone": _cells(val.get("phone", "")), "url": _cells(val.get("url", "")),
        "guid": val.get("guid"), "promptpay": val.get("promptpay"),
        "bankAccount": val.get("bank_account"), "walletAddress": _cells(val.get("wallet", "")),
        "lineId": val.get("line_id"), "displayName": val.get("name"),
    }  # fmt: skip
    contact = val.get("offsite_contact", "")
    if contact:
        person["additionalInfo"] = [contact]  # "line:abc", "LINE id @abc", "Telegram …"
    method, account = val.get("payout_method", "").lower(), val.get("payout_account", "")
    if account:
        field_name = next((f for word, f in _PAYOUT if word in method), None)
        if field_name:
            person[field_name] = account
        else:
            person.setdefault("additionalInfo", []).append(f"{method} {account}".strip())
    ips, times = _cells(val.get("ip", "")), _cells(val.get("ip_time", ""))
    if ips:
        person["ipCaptureEvent"] = [
            # one time for all the IPs, or one each; never a neighbour's time for an IP without one
            {"ipAddress": ip, "dateTime": times[i] if i < len(times) else (times[0] if len(times) == 1 else None)}
            for i, ip in enumerate(ips)
        ]  # fmt: skip
    return {k: v for k, v in person.items() if v}


def _row_files(val: dict[str, str]) -> list[dict]:
    names = _cells(val.get("file_name", ""))
    hashes = {h: _cells(val.get(h, "")) for h in ("md5", "sha1", "sha256")}
    anns = _cells(val.get("file_annotations", ""))
    n = max([len(names), len(anns), *(len(v) for v in hashes.values())])
    files = []
    for i in range(n):
        f = {h: v[i] for h, v in hashes.items() if i < len(v)}
        if not f:
            continue
        f["fileName"] = names[i] if i < len(names) else ""
        if i < len(anns) and anns[i].lower() != "none":
            f["fileAnnotations"] = [a for a in re.split(r"[|,]+", anns[i]) if a.strip()]
        files.append(f)
    return files


def _parse_generic_csv(out: Parsed, region: str, columns: dict[str, list[str]]) -> None:
    from ocsea.referrals.walk import TreeReader

    header, rows = _csv_table(out.name, out.data)
    cols = resolve_csv_columns(header, columns)
    if "report_id" not in cols:
        raise ReferralError(
            f"{out.name}: no report id column (looked for {', '.join(columns['report_id'])})"
        )
    used = {c for cs in cols.values() for c in cs}
    unused = [h for h in header if h not in used]
    if unused:
        out.warnings.append(f"{out.name}: columns not read (kept in the original): "
                            + ", ".join(unused[:20]))  # fmt: skip
    groups: dict[str, list[tuple[str, dict]]] = {}
    for where, row in rows:
        if None in row:
            out.errors.append(f"{out.name} {where}: more fields than the header names")
            continue
        rid = (row.get(cols["report_id"][0]) or "").strip()
        if not rid:
            out.errors.append(f"{out.name} {where}: field 'report_id': missing")
            continue
        groups.setdefault(rid, []).append((where, row))
    for rid, group in groups.items():
        content = _canonical([r for _, r in group])
        ref = Referral("csv", rid[:200], ", ".join(w for w, _ in group[:5]), content)
        tree: dict = {}
        for _where, row in group:
            val = {
                f: " ; ".join(v for c in cs if (v := (row.get(c) or "").strip()))
                if f in MULTI_COLUMN_FIELDS else (row.get(cs[0]) or "").strip()
                for f, cs in cols.items()
            }  # fmt: skip
            ref.received_at = ref.received_at or when(val.get("received_at"))
            ref.incident_at = ref.incident_at or when(val.get("incident_at"))
            ref.reporter = ref.reporter or (val.get("reporter") or val.get("platform", ""))[:300]
            ref.incident_type = ref.incident_type or val.get("incident_type", "")[:200]
            if val.get("escalate", "").lower() in ("1", "true", "yes", "y"):
                ref.escalate = "yes"
            for a in _annotation_names(val.get("annotations", "")):
                if a not in ref.report_annotations:
                    ref.report_annotations.append(a)
            if val.get("annotations"):
                ref.texts.append(val["annotations"][:2000])
            if val.get("country") and len(val["country"]) == 2:
                ref.countries.append(val["country"].upper())
            person = _row_person(val)
            if val.get("text"):
                person.setdefault("additionalInfo", []).append(val["text"])
            if person:
                tree.setdefault("reportedPeople", []).append(person)
            if val.get("reporter_contact"):
                tree.setdefault("reporter", {}).setdefault("additionalInfo", []).append(
                    val["reporter_contact"]
                )
            if val.get("victim_age"):
                tree.setdefault("victim", []).append({"age": val["victim_age"]})
            files = _row_files(val)
            if files:
                tree.setdefault("uploadedFiles", []).extend(files)
        reader = TreeReader(ref, region)
        reader.walk(tree, "$", "report", val.get("platform", "") or "")
        ref.warnings = reader.warnings
        out.warnings += [f"{out.name} report {rid}: {w}" for w in reader.warnings]
        out.keep(ref)
