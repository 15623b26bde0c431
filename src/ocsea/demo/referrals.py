"""Synthetic referrals with planted networks, in every importable format (demo and tests).

All personal data is made up: e-mail addresses on reserved example domains, IP addresses from the
documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), phone numbers
in the 555-01xx pattern (no numbering plan reserves fictitious Thai numbers; docs/referrals.md),
wallet addresses from random bytes. Text is keyword-level only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58check(payload: bytes) -> str:
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def tron_address(rng: random.Random) -> str:
    return _b58check(b"\x41" + rng.randbytes(20))


def eth_address(rng: random.Random) -> str:
    from Crypto.Hash import keccak

    body = rng.randbytes(20).hex()
    digest = keccak.new(data=body.encode(), digest_bits=256).hexdigest()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(d, 16) >= 8 else c
        for c, d in zip(body, digest[:40], strict=True)
    )


def imei(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(14)]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits)
    )
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def thai_phone(i: int) -> str:
    return f"08{i % 10}-555-01{i % 100:02d}"


@dataclass
class ReferralDemo:
    folder: Path
    archive: Path
    networks: dict[str, set[str]] = field(default_factory=dict)  # name → report ids planted
    decoys: set[str] = field(default_factory=set)  # must stay alone
    sharer_guid: str | None = None  # the P2P sharer a referral names
    broken: list[str] = field(default_factory=list)


def _ncmec(rid: str, received: datetime, esp: str, persons: list[dict], files: list[dict] | None = None,
           annotations: list[str] | None = None, escalate: str | None = None, victims: list[dict] | None = None,
           text: str = "", incident: str = "Child Pornography (possession, manufacture, and distribution)") -> dict:  # fmt: skip
    doc = {
        "reportId": rid,
        "dateReceived": received.isoformat(),
        "reportedInformation": {
            "reportingEsp": {"espName": esp, "email": f"safety@{esp.lower()}.example.com"},
            "incidentSummary": {"incidentType": incident, "incidentDateTime": (received - timedelta(days=2)).isoformat(),
                                "reportAnnotations": annotations or []},
            "reportedPeople": {"reportedPersons": persons},
        },
        "uploadedFiles": {"uploadedFiles": files or []},
        "additionalInformations": [{"value": text}] if text else [],
    }  # fmt: skip
    if escalate:
        doc["reportedInformation"]["incidentSummary"]["escalateToHighPriority"] = escalate
    if victims:
        doc["reportedInformation"]["victims"] = victims
    return doc


def _file(rng: random.Random, name: str, annotations: list[str], sha1: str | None = None) -> dict:
    f = {"filename": name, "verificationHash": rng.randbytes(16).hex(), "fileAnnotations": annotations,
         "industryClassification": rng.choice(["A1", "A2", "B1"])}  # fmt: skip
    if sha1:
        f["sha1"] = sha1
    return f


def _xml_report(
    rid: str, esp: str, screen: str, device: str, ip: str, at: datetime, annotation: str
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<report>
  <reportId>{rid}</reportId>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <reportAnnotations><{annotation}/></reportAnnotations>
    <incidentDateTime>{at.isoformat()}</incidentDateTime>
  </incidentSummary>
  <internetDetails><webPageIncident><url>https://forum.example.org/t/{rid}</url></webPageIncident></internetDetails>
  <reporter><reportingPerson><firstName>Safety</firstName><email>safety@{esp}.example.com</email></reportingPerson></reporter>
  <personOrUserReported>
    <espService>{esp}</espService>
    <screenName>{screen}</screenName>
    <ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Upload</eventName><dateTime>{at.isoformat()}</dateTime></ipCaptureEvent>
    <deviceId><idType>IMEI</idType><idValue>{device}</idValue></deviceId>
    <newFieldFromAFutureVersion>kept</newFieldFromAFutureVersion>
  </personOrUserReported>
  <fileDetails><originalFileName>video_{rid}.mp4</originalFileName>
    <originalFileHash hashType="MD5">{hashlib.md5(rid.encode()).hexdigest()}</originalFileHash>
    <fileAnnotations><possibleSelfProduction/></fileAnnotations></fileDetails>
</report>
"""


def _p2p_anchor(p2p_log: Path | None, guid_rank: int = 0) -> tuple[str, str, datetime, str] | None:
    """(guid, ip, time, sha1) of one observation of the demo's first unknown-material sharer."""
    if p2p_log is None or not p2p_log.is_file():
        return None
    guid = hashlib.md5(f"guid{guid_rank}".encode()).hexdigest().upper()
    with p2p_log.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["guid"] == guid:
                return guid, row["ip"], datetime.fromisoformat(row["timestamp"]), row["sha1"]
    return None


def make_referrals(
    root: Path, seed: int = 11, p2p_log: Path | None = None, singletons: int = 30
) -> ReferralDemo:
    """Write the synthetic referral documents under ``root`` and a zip of them all."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    demo = ReferralDemo(root, root / "referrals.zip")
    t0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    docs: dict[str, str] = {}

    # 1. A sextortion ring: four reports from three platforms, one wallet and one PromptPay id.
    wallet, pp = tron_address(rng), thai_phone(7)
    ring = []
    for i in range(4):
        rid = f"71000{i + 1:02d}"
        person = {"espUserId": f"sx-{rng.randrange(10**6)}", "screenName": f"nice_friend_{i}",
                  "emails": [f"friend{i}@mail.example.com"], "phones": [{"number": thai_phone(20 + (i % 2))}],
                  "ipCaptureEvents": [{"ipAddress": f"2001:db8:71::{i + 1}", "dateTime": (t0 + timedelta(days=i * 3)).isoformat(), "eventName": "Login"}]}  # fmt: skip
        ring.append(_ncmec(rid, t0 + timedelta(days=i * 3), ["ChatApp", "PhotoShare", "GameTalk", "ChatApp"][i], [person],
                           [_file(rng, f"img_{i}.jpg", ["possibleSelfProduction"])], ["sextortion"],
                           victims=[{"age": 14, "screenName": f"victim_{i}"}],
                           text=f"demanded payment: send USDT to {wallet} or โอนพร้อมเพย์ {pp}"))  # fmt: skip
    demo.networks["sextortion ring"] = {d["reportId"] for d in ring}
    docs["ncmec-batch-sextortion.json"] = json.dumps(
        {"reports": ring}, ensure_ascii=False, indent=1
    )

    # 2. One e-mail written two ways, and an IP used by another account 40 minutes later.
    base = t0 + timedelta(days=20)
    a = _ncmec("7200001", base, "MailBox", [{"emails": ["Trader.K+files@example.net"], "screenName": "trader_k"}],
               [_file(rng, "set_01.zip", ["liveStreaming"])], escalate="live stream announced for tonight")  # fmt: skip
    b = _ncmec("7200002", base + timedelta(days=1), "CloudDrive", [{"emails": ["trader.k@example.net"],
               "ipCaptureEvents": [{"ipAddress": "2001:db8:72::17", "dateTime": (base + timedelta(days=1)).isoformat()}]}])  # fmt: skip
    c = _ncmec("7200003", base + timedelta(days=1, minutes=40), "CloudDrive", [{"screenName": "other_user_33",
               "ipCaptureEvents": [{"ipAddress": "2001:DB8:72:0:0:0:0:17", "dateTime": (base + timedelta(days=1, minutes=40)).isoformat()}]}],
               victims=[{"age": 2}])  # fmt: skip
    decoy = _ncmec("7200099", base + timedelta(days=12), "CloudDrive", [{"screenName": "later_user",
                   "ipCaptureEvents": [{"ipAddress": "2001:db8:72::17", "dateTime": (base + timedelta(days=12)).isoformat()}]}])  # fmt: skip
    demo.networks["e-mail and IP"] = {"7200001", "7200002", "7200003"}
    demo.decoys.add("7200099")
    for d in (a, b, c, decoy):
        docs[f"ncmec-{d['reportId']}.json"] = json.dumps(d, ensure_ascii=False, indent=1)

    # 3. Platform XML: two reports with one device.
    dev = imei(rng)
    for i, (esp, screen) in enumerate((("streamhub", "cam_boy_x"), ("shortvid", "another_name"))):
        rid = f"XML-73000{i + 1}"
        docs[f"esp-{rid}.xml"] = _xml_report(rid, esp, screen, dev, f"2001:db8:73::{i + 1}",
                                             t0 + timedelta(days=30 + i * 40), "csamSolicitation")  # fmt: skip
    demo.networks["shared device"] = {"XML-730001", "XML-730002"}

    # 4. A foreign agency's spreadsheet naming a P2P client, and an NCMEC report with a file it shares.
    anchor = _p2p_anchor(p2p_log)
    rows = [["report_id", "received_at", "reporter", "guid", "ip", "ip_time", "notes"],
            ["AG-2026-001", "2026-10-20T00:00:00+00:00", "Foreign police (example)", anchor[0] if anchor else "", "", "",
             "P2P investigation; client seen distributing"],
            ["AG-2026-002", "2026-10-22T00:00:00+00:00", "Foreign police (example)", "", "2001:db8:ff::2",
             "2026-10-22T03:00:00+00:00", "single login"]]  # fmt: skip
    if anchor:
        demo.sharer_guid = anchor[0]
        hit = _ncmec("7400001", anchor[2] + timedelta(days=3), "FileBox", [{"screenName": "uploader_z",
                     "ipCaptureEvents": [{"ipAddress": anchor[1], "dateTime": (anchor[2] + timedelta(minutes=40)).isoformat()}]}],
                     [_file(rng, "shared.jpg", ["infant"], sha1=anchor[3])])  # fmt: skip
        docs["ncmec-7400001.json"] = json.dumps(hit, indent=1)
        demo.networks["P2P sharer"] = {"AG-2026-001", "7400001"}
    with (root / "agency-referrals.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)

    # 5. Hotline URL reports: three files of one uploader (a host alone joins no one).
    hot = [
        [
            "report_id",
            "url",
            "reported_at",
            "hosting_country",
            "content_type",
            "classification",
            "age_group",
        ]
    ]
    for i in range(3):
        hot.append([f"HL-{i + 1:04d}", f"https://files.example.net/u/uploader77/{rng.randrange(10**8)}", f"2026-10-{10 + i}T08:00:00Z",
                    "TH", "image", "baseline", "prepubescent"])  # fmt: skip
    hot.append(
        [
            "HL-0004",
            "hxxps://www.other[.]example.org/x",
            "2026-10-15T08:00:00Z",
            "NL",
            "video",
            "national",
            "pubescent",
        ]
    )
    with (root / "hotline-reports.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(hot)
    demo.networks["hotline uploader"] = {"HL-0001", "HL-0002", "HL-0003"}
    demo.decoys.add("HL-0004")

    # 6. Unrelated reports, some urgent, some AI-generated only.
    singles = []
    for i in range(singletons):
        rid = f"75{i:05d}"
        anns = rng.choice([[], ["viral"], ["generativeAi"], ["physicalHarm"], ["infant"]])
        esc = "child in immediate danger" if i % 11 == 0 else None
        person = {"espUserId": f"solo-{i}", "screenName": f"solo_user_{i}", "emails": [f"solo{i}@example.org"],
                  "ipCaptureEvents": [{"ipAddress": f"2001:db8:75::{i + 1:x}", "dateTime": (t0 + timedelta(days=i * 5)).isoformat()}]}  # fmt: skip
        singles.append(_ncmec(rid, t0 + timedelta(days=i), rng.choice(["ChatApp", "PhotoShare", "MailBox"]), [person],
                              [_file(rng, f"f{i}.jpg", anns)], escalate=esc))  # fmt: skip
        demo.decoys.add(rid)
    docs["ncmec-batch-misc.json"] = json.dumps(singles, indent=1)

    # 7. What must be refused: broken JSON, an XML entity bomb, and a copy under another name.
    docs["broken.json"] = '{"reportId": 1, "dateReceived": '
    docs["entity-bomb.xml"] = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                               "<report><incidentSummary>&b;</incidentSummary></report>")  # fmt: skip
    docs["copy-of-7200002.json"] = json.dumps(b, ensure_ascii=False)
    demo.broken = ["broken.json", "entity-bomb.xml"]
    for name, text in docs.items():
        (root / name).write_text(text, encoding="utf-8")
    with zipfile.ZipFile(demo.archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.iterdir()):
            if p != demo.archive:
                zf.write(p, p.name)
    return demo
