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
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as xml_fromstring

from ocsea.referrals.entities import Mention, norm_ip, norm_url
from ocsea.referrals.model import Referral, ReferralError
from ocsea.referrals.walk import get, key, read_report, scalar, when

FORMATS = ("ncmec", "cybertip-xml", "hotline", "csv")
MAX_DOCUMENT_BYTES = 64 << 20
MAX_RECORDS = 100_000

HOTLINE_KEYS = {"hostingcountry", "classification", "contenttype", "agegroup", "reportedat",
                "iccamid", "iccamreference"}  # fmt: skip

DEFAULT_CSV_COLUMNS: dict[str, list[str]] = {
    "report_id": ["report_id", "reportid", "referral_id", "reference", "case_ref", "id"],
    "received_at": ["received_at", "date_received", "received", "date"],
    "reporter": ["reporter", "source", "agency", "reporting_esp"],
    "incident_type": ["incident_type", "type", "offence"],
    "platform": ["platform", "service", "esp_service"],
    "user_id": ["user_id", "esp_user_id", "account_id"],
    "screen_name": ["screen_name", "username", "handle"],
    "email": ["email", "email_address"],
    "phone": ["phone", "phone_number", "mobile"],
    "ip": ["ip", "ip_address"],
    "ip_time": ["ip_time", "ip_date", "login_time", "event_time"],
    "url": ["url", "link"],
    "guid": ["guid", "p2p_guid", "client_guid", "peer_id"],
    "md5": ["md5"],
    "sha1": ["sha1"],
    "sha256": ["sha256"],
    "file_name": ["file_name", "filename"],
    "victim_age": ["victim_age", "child_age", "age"],
    "annotations": ["annotations", "tags", "flags"],
    "escalate": ["escalate", "urgent", "high_priority"],
    "country": ["country", "country_code"],
    "text": ["text", "notes", "details", "summary", "additional_information"],
}


@dataclass
class Parsed:
    name: str
    format: str
    data: bytes
    referrals: list[Referral] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # records that were rejected
    warnings: list[str] = field(default_factory=list)  # values that were not readable

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
    return "url" in keys and bool(keys & HOTLINE_KEYS) and "reportedinformation" not in keys


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferralError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def _load_records(name: str, data: bytes) -> list | None:
    try:
        return _json_records(json.loads(_decode(name, data)))
    except json.JSONDecodeError as exc:
        raise ReferralError(f"{name}: not valid JSON: {exc.msg} at line {exc.lineno}") from None


def _detect(name: str, data: bytes) -> tuple[str, list | None]:
    """The format, and for JSON the records already decoded (so they are decoded once)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    lower = name.lower()
    if head.startswith(b"<") or lower.endswith(".xml"):
        return "cybertip-xml", None
    if head[:1] in (b"{", b"[") or lower.endswith(".json"):
        recs = _load_records(name, data)
        first = next((r for r in recs or [] if isinstance(r, dict)), {})
        return ("hotline" if _is_hotline(first) else "ncmec"), recs
    # Only the first line is wanted: a window cut inside a Thai character must not make the whole
    # file "not UTF-8" (the full text is decoded strictly when it is read).
    window = data[:4096].decode("utf-8-sig", errors="ignore")
    first_line = window.splitlines()[0] if window else ""
    cols = {key(c) for c in first_line.replace(";", ",").replace("\t", ",").split(",")}
    return ("hotline" if "url" in cols and cols & HOTLINE_KEYS else "csv"), None


def detect_format(name: str, data: bytes) -> str:
    return _detect(name, data)[0]


def parse_document(name: str, data: bytes, fmt: str = "auto", region: str = "TH",
                   csv_columns: dict[str, list[str]] | None = None) -> Parsed:  # fmt: skip
    """Every referral in one document. A record that cannot be read is listed in ``errors`` and the
    others still come; a document that cannot be read at all raises ``ReferralError``."""
    try:
        return _parse_document(name, data, fmt, region, csv_columns)
    except RecursionError:
        raise ReferralError(f"{name}: nested too deeply to be a report") from None
    except csv.Error as exc:
        raise ReferralError(f"{name}: not readable as CSV: {exc}") from None


def _parse_document(name: str, data: bytes, fmt: str, region: str,
                    csv_columns: dict[str, list[str]] | None) -> Parsed:  # fmt: skip
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ReferralError(f"{name}: larger than {MAX_DOCUMENT_BYTES >> 20} MB")
    if not data.strip():
        raise ReferralError(f"{name}: empty file")
    recs = None
    if fmt == "auto":
        fmt, recs = _detect(name, data)
    if fmt not in FORMATS:
        raise ReferralError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    out = Parsed(name, fmt, data)
    if fmt == "cybertip-xml":
        _parse_xml(out, region)
    elif fmt == "csv":
        _parse_generic_csv(out, region, csv_columns or DEFAULT_CSV_COLUMNS)
    elif fmt == "hotline" and data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"{", b"["):
        _parse_hotline_rows(out, list(_csv_rows(name, data)))
    else:
        if recs is None:
            recs = _load_records(name, data)
        if recs is None:
            raise ReferralError(f"{name}: a report is a JSON object (or a list of them)")
        if fmt == "hotline":
            _parse_hotline_rows(out, [(f"$[{i}]", r) for i, r in enumerate(recs)])
        else:
            _parse_ncmec_json(out, recs, region)
    if len(out.referrals) > MAX_RECORDS:
        raise ReferralError(f"{name}: more than {MAX_RECORDS} referrals in one document")
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
    out.referrals.append(ref)


def _parse_ncmec_json(out: Parsed, recs: list, region: str) -> None:
    for i, rec in enumerate(recs):
        where = "$" if len(recs) == 1 else f"$[{i}]"
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


def _csv_rows(name: str, data: bytes):
    text = _decode(name, data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise ReferralError(f"{name}: no header row")
    for row in reader:
        yield f"line {reader.line_num}", row


def _parse_hotline_rows(out: Parsed, rows: list[tuple[str, dict]]) -> None:
    for where, row in rows:
        if not isinstance(row, dict) or None in row:
            out.errors.append(f"{out.name} {where}: more fields than the header names")
            continue
        raw_url = scalar(get(row, "url", "reported_url"))
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
        ref.mentions += [Mention("url", got[0], raw_url, "hosting", "url"),
                         Mention("domain", got[1], got[1], "hosting", "url")]  # fmt: skip
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
        known = {"url", "reportedurl", "reportid", "iccamid", "reference", "id", "reportedat", "date",
                 "receivedat", "hotline", "reporter", "source", "contenttype", "ip", "hostingip",
                 "ipaddress", "hostingcountry", "country", "classification", "agegroup", "gender",
                 "virtual", "isvirtual"}  # fmt: skip
        ref.unknown_fields = [k for k in row if key(k) not in known][:50]
        out.referrals.append(ref)


def _parse_generic_csv(out: Parsed, region: str, columns: dict[str, list[str]]) -> None:
    from ocsea.ingest.rows import resolve_columns
    from ocsea.referrals.walk import TreeReader

    rows = list(_csv_rows(out.name, out.data))
    header = list(rows[0][1]) if rows else []
    cols = resolve_columns(header, columns)
    if "report_id" not in cols:
        raise ReferralError(
            f"{out.name}: no report id column (looked for {', '.join(columns['report_id'])})"
        )
    groups: dict[str, list[tuple[str, dict]]] = {}
    for where, row in rows:
        if None in row:
            out.errors.append(f"{out.name} {where}: more fields than the header names")
            continue
        rid = (row.get(cols["report_id"]) or "").strip()
        if not rid:
            out.errors.append(f"{out.name} {where}: field 'report_id': missing")
            continue
        groups.setdefault(rid, []).append((where, row))
    used = set(cols.values())
    for rid, group in groups.items():
        content = _canonical([r for _, r in group])
        ref = Referral("csv", rid[:200], ", ".join(w for w, _ in group[:5]), content)
        tree: dict = {}
        for where, row in group:
            val = {f: (row.get(c) or "").strip() for f, c in cols.items()}
            ref.received_at = ref.received_at or when(val.get("received_at"))
            ref.reporter = ref.reporter or val.get("reporter", "")[:300]
            ref.incident_type = ref.incident_type or val.get("incident_type", "")[:200]
            if val.get("escalate", "").lower() in ("1", "true", "yes", "y"):
                ref.escalate = "yes"
            for a in val.get("annotations", "").replace(";", ",").split(","):
                a = a.strip()
                if a and a not in ref.report_annotations:
                    ref.report_annotations.append(a)
            if val.get("country") and len(val["country"]) == 2:
                ref.countries.append(val["country"].upper())
            person = {"espService": val.get("platform", ""), "espUserId": val.get("user_id"),
                      "screenName": val.get("screen_name"), "email": val.get("email"),
                      "phone": val.get("phone"), "url": val.get("url"), "guid": val.get("guid"), "additionalInfo": val.get("text")}  # fmt: skip
            if val.get("ip"):
                person["ipCaptureEvent"] = {
                    "ipAddress": val["ip"],
                    "dateTime": val.get("ip_time") or val.get("received_at"),
                }
            tree.setdefault("reportedPeople", []).append({k: v for k, v in person.items() if v})
            if val.get("victim_age"):
                tree.setdefault("victim", []).append({"age": val["victim_age"]})
            hashes = {h: val[h] for h in ("md5", "sha1", "sha256") if val.get(h)}
            if hashes:
                tree.setdefault("uploadedFiles", []).append(
                    {"fileName": val.get("file_name", ""), **hashes}
                )
            ref.unknown_fields += [f"{where}.{k}" for k in row if k not in used and row[k]][:5]
        reader = TreeReader(ref, region)
        reader.walk(tree, "$", "report", "")
        ref.warnings = reader.warnings
        out.warnings += [f"{out.name} report {rid}: {w}" for w in reader.warnings]
        ref.unknown_fields = ref.unknown_fields[:50]
        out.referrals.append(ref)
