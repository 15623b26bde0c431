"""One reader for the tree of a CyberTipline report, from JSON (as law enforcement receives it)
or from XML (as platforms submit it): both name the same things with the same words, in
different nestings and versions. The reader goes by the words, not the nesting, so a new
version that moves a field or adds one still imports; keys it does not know are listed.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from typing import Any

from ocsea.ingest.rows import RowError, parse_time
from ocsea.referrals.entities import (
    Mention,
    norm_bank_account,
    norm_crypto,
    norm_device,
    norm_email,
    norm_guid,
    norm_hash,
    norm_ip,
    norm_line_id,
    norm_phone,
    norm_platform_id,
    norm_promptpay,
    norm_screen_name,
    norm_url,
    url_mentions,
)
from ocsea.referrals.extract import extract
from ocsea.referrals.model import FILE_ANNOTATIONS, REPORT_ANNOTATIONS, Referral, ReferralFile

MAX_NODES = 200_000
_NOT_ALNUM = re.compile(r"[^a-z0-9]")  # a report with more values than this is not a report


@functools.lru_cache(maxsize=4096)
def _key(k: str) -> str:
    return _NOT_ALNUM.sub("", k.lower())


def key(k: object) -> str:
    """A key compared without case or punctuation (memoised: reports repeat the same keys)."""
    return _key(k if isinstance(k, str) else str(k))


@functools.lru_cache(maxsize=1024)
def _ranks(names: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, n in enumerate(names):
        out.setdefault(_key(n), i)
    return out


def get(d: Any, *names: str) -> Any:
    """``d[name]`` for the first name present, compared without case or punctuation. One pass
    over the (small) dict, no copy: this is the importer's innermost call."""
    if not isinstance(d, dict):
        return None
    ranks = _ranks(names)
    best, best_rank = None, len(names)
    for k, v in d.items():
        r = ranks.get(_key(k) if type(k) is str else key(k))
        if r is not None and r < best_rank and v is not None and v != "":
            best, best_rank = v, r
            if r == 0:
                break
    return best


def _pick(nk: dict, *names: str) -> Any:
    """``get`` over a dict whose keys are already compared forms."""
    for n in names:
        v = nk.get(n)
        if v is not None and v != "":
            return v
    return None


def value_of(d: Any, *names: str) -> Any:
    """A field's value: a named child, or the element's own text when the value sits beside
    attributes (``<email verified="true">a@b.example</email>``, NCMEC's reporting XML)."""
    got = get(d, *names)
    if got is None and isinstance(d, dict):
        got = d.get("#text")
    return got


def as_list(v: Any) -> list:
    if v is None or v == "":
        return []
    return v if isinstance(v, list) else [v]


def scalar(v: Any) -> str:
    if isinstance(v, dict):
        v = get(v, "value", "text", "#text", "name")
    if isinstance(v, list):
        v = v[0] if v else None
    return "" if v is None or isinstance(v, dict | list) else str(v).strip()


_ZONES = {"ICT": "+07:00", "THA": "+07:00", "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00"}
_ZONE = re.compile(r"\s+(ICT|THA|UTC|GMT)\s*$", re.I)


def exact_time(v: Any) -> datetime | None:
    """A time to the minute, or None: never a date alone (an IP's window needs the clock)."""
    text = scalar(v)
    if not text or (len(text.strip()) <= 10 and "-" in text):
        return None
    zone = _ZONE.search(text)
    if zone:  # "2024-03-05 22:30 ICT": Thailand's clock, as Thai reports write it
        text = text[: zone.start()].strip() + _ZONES[zone.group(1).upper()]
    try:
        return parse_time(text)
    except RowError:
        return None


def when(v: Any) -> datetime | None:
    text = scalar(v)
    if not text:
        return None
    try:
        return parse_time(text)
    except RowError:
        try:
            d = date.fromisoformat(text[:10])
        except ValueError:
            return None
        return datetime(d.year, d.month, d.day, tzinfo=UTC)


# Subtrees by whose words the entities inside them take a role.
ROLE_KEYS = {
    "reportedpeople": "reported", "reportedpersons": "reported", "reportedperson": "reported",
    "personoruserreported": "reported", "reporteduser": "reported", "suspect": "reported",
    "intendedrecipients": "recipient", "intendedrecipient": "recipient",
    "victim": "victim", "victims": "victim", "childvictim": "victim", "childvictims": "victim",
    "uploadedfiles": "file", "filedetails": "file", "files": "file",
    "incidentdetails": "incident", "internetdetails": "incident",
}  # fmt: skip
# Subtrees that hold a reporting party's own contacts (the company, its support desk, the police
# or hotline that forwarded the report): read with the role ``reporting_party``, shown, and never
# used to join, here or in any other report that quotes them (docs/referrals.md, Links).
PARTY_KEYS = {"reporter", "reportingesp", "reportingperson", "lawenforcement", "contactperson",
              "companytemplate", "reportingelectronicserviceprovider", "supportcontact",
              "officercontact", "legalcontact", "lawenforcementcontact", "handledby"}  # fmt: skip
TEXT_KEYS = {"additionalinfo", "additionalinformation", "additionalinformations", "notes",
             "description", "incidentdatetimedescription", "comments", "comment", "narrative"}  # fmt: skip
KNOWN_KEYS = (
    set(ROLE_KEYS) | PARTY_KEYS | TEXT_KEYS
    | {"reportid", "id", "cybertipid", "datereceived", "receiveddate", "reportedinformation",
       "incidentsummary", "incidenttype", "incidentdatetime", "escalatetohighpriority",
       "reportannotations", "email", "emails", "emailaddress", "value", "verified", "type",
       "phone", "phones", "phonenumber", "number", "countrycallingcode", "extension",
       "screenname", "username", "displayname", "espuserid", "espidentifier", "userid",
       "espservice", "platform", "profileurl", "url", "urls", "ipaddress", "ip",
       "ipcaptureevent", "ipcaptureevents", "sourcecaptures", "sourceinformation", "eventname",
       "datetime", "date", "capturedate", "port", "possibleproxy", "deviceid", "idtype",
       "idvalue", "dateofbirth", "age", "firstname", "lastname", "address", "filename",
       "originalfilename", "verificationhash", "md5", "sha1", "sha256", "originalfilehash",
       "hashtype", "fileannotations", "ncmectags", "industryclassification", "fileid",
       "locationoffile", "priorctreports", "guid", "p2pguid", "peerid", "walletaddress",
       "cryptoaddress", "promptpay", "bankaccount", "accountnumber", "estimatedlocation",
       "country", "countrycode", "reportingesp", "espname", "name", "uploadedfile",
       "thirdpartyuserreported", "publiclyavailable", "fileviewedbyesp", "exifviewedbyesp",
       "filerelevance", "details", "groupidentifier", "schoolname", "vehicledescription",
       "agencyname", "casenumber", "originalurl", "lineid", "line", "companyname", "#text",
       "text"}
)  # fmt: skip


def _annotations(v: Any, allowed: frozenset[str]) -> list[str]:
    """Annotations as a list of names, a {name: true} map, or XML empty elements."""
    lower = {a.lower(): a for a in allowed}
    out: list[str] = []
    for item in as_list(v):
        names: list[str] = []
        if isinstance(item, dict):
            flat = item.get("name") or item.get("value")
            if isinstance(flat, str):
                names = [flat]
            else:
                names = [k for k, x in item.items() if x not in (False, "false", "0", 0, None)]
        elif isinstance(item, str):
            names = [n for n in re.split(r"[,;|\s]+", item) if n]
        for n in names:
            canon = lower.get(str(n).lower())
            if canon and canon not in out:
                out.append(canon)
    return out


class TreeReader:
    """Collects one report's facts while walking its tree."""

    def __init__(self, ref: Referral, region: str) -> None:
        self.ref, self.region = ref, region
        self.seen_nodes = 0
        self.warnings: list[str] = []

    def add(self, m: Mention | None) -> None:
        if m is not None and m.value:
            self.ref.mentions.append(m)

    def text(self, value: Any, path: str, role: str) -> None:
        for v in as_list(value):
            t = scalar(v) if not isinstance(v, str) else v.strip()
            if t:
                self.ref.texts.append(t[:20_000])
                for m in extract(t, path, role if role != "report" else "text", self.region):
                    self.add(m)

    def ip_capture(self, d: dict, path: str, role: str) -> None:
        raw_time = get(d, "dateTime", "captureDate", "date", "time", "timestamp")
        at = exact_time(raw_time)
        if raw_time not in (None, "") and at is None:
            # A date alone, or a time this reader cannot place on the clock, would put two uses
            # hours apart into one window: the IP is kept, without a time (it then joins no one).
            self.warnings.append(
                f"{path}: capture time not read to the minute: {scalar(raw_time)[:40]!r}"
            )
        attrs = {"event": scalar(get(d, "eventName")) or None, "port": scalar(get(d, "port")) or None,
                 "proxy": scalar(get(d, "possibleProxy")) or None}  # fmt: skip
        attrs = {k: v for k, v in attrs.items() if v}
        for i, item in enumerate(as_list(get(d, "ipAddress", "ip"))):
            raw = scalar(item)
            value = norm_ip(raw)
            where = path if i == 0 else f"{path}.ipAddress[{i}]"
            if value:
                self.add(Mention("ip", value, raw, role, where, at, attrs))
            elif raw:
                self.warnings.append(f"{where}: not an IP address: {raw[:60]!r}")

    def walk(self, node: Any, path: str, role: str, platform: str) -> None:
        self.seen_nodes += 1
        if self.seen_nodes > MAX_NODES:
            raise ValueError(f"more than {MAX_NODES} values in one report")
        if isinstance(node, list):
            for i, x in enumerate(node):
                self.walk(x, f"{path}[{i}]", role, platform)
            return
        if not isinstance(node, dict):
            return
        nk = {key(k): v for k, v in node.items()}  # once a node, not once a lookup
        platform = scalar(_pick(nk, "espservice", "platform", "service")) or platform
        if _pick(nk, "ipaddress", "ip") is not None:
            self.ip_capture(node, path, role)
        if _pick(nk, "idtype") is not None and _pick(nk, "idvalue") is not None:
            dev = norm_device(scalar(nk["idtype"]), scalar(nk["idvalue"]))
            self.add(dev and Mention("device", dev, scalar(nk["idvalue"]), role, path))
        for k, v in node.items():
            kk, sub = key(k), f"{path}.{k}"
            if kk not in KNOWN_KEYS and len(self.ref.unknown_fields) < 50:
                self.ref.unknown_fields.append(sub.lstrip("$."))
            if kk in ("reportannotations", "fileannotations", "ncmectags"):
                continue
            if kk in PARTY_KEYS and role != "reporting_party":
                self.walk(v, sub, "reporting_party", platform)
                continue
            if kk in ROLE_KEYS and role != "reporting_party":
                if ROLE_KEYS[kk] == "file":
                    self.files(v, sub, platform)
                else:
                    self.walk(v, sub, ROLE_KEYS[kk], platform)
            elif kk in TEXT_KEYS:
                self.text(v if not isinstance(v, list) else [scalar(x) for x in v], sub, role)
            elif kk in ("email", "emails", "emailaddress"):
                for i, e in enumerate(as_list(v)):
                    raw = scalar(
                        value_of(e, "emailAddress", "address", "value")
                        if isinstance(e, dict)
                        else e
                    )
                    self.add(self._m("email", norm_email(raw), raw, role, f"{sub}[{i}]", e))
            elif kk in ("phone", "phones", "phonenumber", "phonenumbers", "mobile"):
                for i, p in enumerate(as_list(v)):
                    raw = scalar(
                        value_of(p, "number", "phoneNumber", "value") if isinstance(p, dict) else p
                    )
                    cc = scalar(get(p, "countryCallingCode")) if isinstance(p, dict) else None
                    ph = norm_phone(raw, self.region, cc or None)
                    if ph:
                        self.add(Mention("phone", ph.e164, raw, role, f"{sub}[{i}]", None,
                                         {"region": ph.region, "valid": ph.valid}))  # fmt: skip
                    elif raw:
                        self.warnings.append(f"{sub}[{i}]: not a phone number: {raw[:40]!r}")
                    elif isinstance(p, dict | list) and p:
                        self.warnings.append(f"{sub}[{i}]: no number found in the element")
            elif kk in ("lineid", "line"):
                for x in as_list(v):
                    raw = scalar(x)
                    self.add(self._m("line_id", norm_line_id(raw), raw, role, sub, x))
            elif kk in ("screenname", "username"):
                for x in as_list(v):
                    raw = scalar(x)
                    self.add(
                        self._m("screen_name", norm_screen_name(platform, raw), raw, role, sub)
                    )
            elif kk in ("espuserid", "espidentifier", "userid", "accountid"):
                for x in as_list(v):
                    raw = scalar(x)
                    self.add(
                        self._m("platform_id", norm_platform_id(platform, raw), raw, role, sub, x)
                    )
            elif kk in ("profileurl", "url", "urls", "locationoffile", "webpageurl"):
                for x in as_list(v):
                    got = norm_url(scalar(x))
                    if got:
                        for m in url_mentions(got, scalar(x), role, sub):
                            self.add(m)
            elif kk in ("guid", "p2pguid", "peerid", "clientguid"):
                self.add(self._m("p2p_guid", norm_guid(scalar(v)), scalar(v), role, sub))
            elif kk in ("walletaddress", "cryptoaddress", "bitcoinaddress"):
                for x in as_list(v):
                    got = norm_crypto(scalar(x))
                    if got:
                        self.add(
                            Mention(
                                "crypto",
                                f"{got[0]}|{got[1]}",
                                scalar(x),
                                role,
                                sub,
                                None,
                                {"chain": got[0]},
                            )
                        )
            elif kk == "promptpay":
                pp = norm_promptpay(scalar(v))
                self.add(self._m("promptpay", pp, scalar(v), role, sub))
                if pp and pp.startswith("+"):  # a PromptPay proxy that is a mobile number
                    self.add(Mention("phone", pp, scalar(v), role, sub, None, {"via": "promptpay"}))
            elif kk in ("bankaccount", "accountnumber"):
                self.add(
                    self._m("bank_account", norm_bank_account(scalar(v)), scalar(v), role, sub)
                )
            elif kk in ("dateofbirth", "age") and role == "victim":
                self.victim_age(kk, v)
            elif kk in ("country", "countrycode") and len(scalar(v)) == 2:
                self.ref.countries.append(scalar(v).upper())
            elif kk == "priorctreports":
                self.ref.prior_reports += [scalar(x) for x in as_list(v) if scalar(x)]
            elif isinstance(v, dict | list):
                self.walk(v, sub, role, platform)

    def _m(self, kind: str, value: str | None, raw: str, role: str, path: str,
           node: Any = None) -> Mention | None:  # fmt: skip
        if value is None:
            if raw:
                self.warnings.append(f"{path}: not a valid {kind}: {raw[:60]!r}")
            elif isinstance(node, dict | list) and node:
                self.warnings.append(f"{path}: no {kind} found in the element")
            return None
        return Mention(kind, value, raw, role, path)

    def victim_age(self, kk: str, v: Any) -> None:
        text = scalar(v)
        if kk == "age":
            try:
                age = float(text)
            except ValueError:
                self.warnings.append(f"victim age not a number: {text[:20]!r}")
                return
        else:
            born = when(text)
            ref_time = self.ref.incident_at or self.ref.received_at
            if born is None or ref_time is None:
                return
            age = (ref_time - born).days / 365.25
        if 0 <= age < 120:
            self.ref.victim_ages.append(round(age, 1))

    def files(self, v: Any, path: str, platform: str) -> None:
        if isinstance(v, dict) and not get(v, "fileName", "filename", "originalFileName", "md5",
                                           "verificationHash", "originalFileHash", "sha1"):  # fmt: skip
            inner = get(v, "uploadedFiles", "files", "fileDetails", "uploadedFile")
            if inner is not None:
                return self.files(inner, path + ".uploadedFiles", platform)
        for i, f in enumerate(as_list(v)):
            if not isinstance(f, dict):
                continue
            fp = f"{path}[{i}]"
            rf = ReferralFile(
                name=scalar(get(f, "originalFileName", "fileName", "filename", "name"))[:1000]
            )
            for h in [
                *as_list(get(f, "originalFileHash")),
                {"value": get(f, "verificationHash"), "hashType": "md5"},
                {"value": get(f, "md5"), "hashType": "md5"},
                {"value": get(f, "sha1"), "hashType": "sha1"},
                {"value": get(f, "sha256"), "hashType": "sha256"},
            ]:
                raw = scalar(get(h, "value", "#text")) if isinstance(h, dict) else scalar(h)
                declared = scalar(get(h, "hashType")) if isinstance(h, dict) else ""
                got = norm_hash(raw) if raw else None
                if raw and got is None:
                    self.warnings.append(f"{fp}: not a {declared or 'file'} hash: {raw[:70]!r}")
                if got and getattr(rf, got[0]) is None:
                    setattr(rf, got[0], got[1])
                    self.add(Mention(got[0], got[1], raw, "file", fp, None, {"file": rf.name}))
            rf.annotations = _annotations(
                as_list(get(f, "fileAnnotations")) + as_list(get(f, "ncmecTags")), FILE_ANNOTATIONS
            )
            rf.classification = scalar(get(f, "industryClassification")) or None
            self.ref.files.append(rf)
            rest = {k: x for k, x in f.items() if key(k) not in
                    {"fileannotations", "ncmectags", "originalfilehash", "verificationhash"}}  # fmt: skip
            self.walk(rest, fp, "upload", platform)


def read_report(tree: dict, ref: Referral, region: str) -> list[str]:
    """Fill ``ref`` from a CyberTipline tree; returns warnings (values that were not readable)."""
    info = get(tree, "reportedInformation")
    body = info if isinstance(info, dict) else tree
    summary = get(body, "incidentSummary") or get(tree, "incidentSummary") or {}
    ref.received_at = when(get(tree, "dateReceived", "receivedDate", "dateReported"))
    ref.incident_at = when(get(summary, "incidentDateTime", "incidentDate"))
    ref.incident_type = scalar(get(summary, "incidentType", "type"))[:200]
    esc = get(summary, "escalateToHighPriority")
    if esc is not None and str(esc).strip().lower() not in ("false", "0", "no"):
        ref.escalate = scalar(esc) or "yes"
    ref.report_annotations = _annotations(get(summary, "reportAnnotations"), REPORT_ANNOTATIONS)
    esp = get(body, "reportingEsp", "reportingElectronicServiceProvider", "reporter") or get(
        tree, "reporter"
    )
    ref.reporter = (
        scalar(get(esp, "espName", "companyName", "name", "reportingPerson"))
        if isinstance(esp, dict)
        else scalar(esp)
    )[:300]
    reader = TreeReader(ref, region)
    # The platform a report names once (incidentSummary/platform, the reporting company) holds
    # for every person in it, siblings of the summary included, unless a person names their own.
    platform = scalar(get(summary, "platform", "espService", "service")) or (
        scalar(get(esp, "espName", "companyName")) if isinstance(esp, dict) else ""
    )
    reader.walk(tree, "$", "report", platform)
    return reader.warnings
