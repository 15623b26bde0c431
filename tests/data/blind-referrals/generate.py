#!/usr/bin/env python3
"""Blind, synthetic evaluation set for referral import + offender-network linking.

Usage:
    python generate.py --out DIR --seed N --part dev|test

Writes DIR/referrals/* (JSON, XML and CSV referral files) and DIR/truth.json.
Standard library only (Python 3.11).  Everything is synthetic metadata:
example domains, documentation IP ranges, made-up phone numbers / ids /
wallets.  See README.md next to this file for the layout and truth schema.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import ipaddress
import json
import os
import random
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
DIGITS = "0123456789"

# ----------------------------------------------------------------------------
# crypto helpers (so that wallet strings are well-formed but belong to no one)
# ----------------------------------------------------------------------------
_RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61],
        [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
_M64 = (1 << 64) - 1


def _keccak_f(a):
    for rnd in range(24):
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _M64)
             for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                r = _ROT[x][y]
                v = a[x][y]
                b[y][(2 * x + 3 * y) % 5] = (((v << r) | (v >> (64 - r))) & _M64) if r else v
        a = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)]
             for x in range(5)]
        a[0][0] ^= _RC[rnd]
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    msg = bytearray(data)
    msg.append(0x01)
    while len(msg) % rate:
        msg.append(0)
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off:off + rate]
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        a = _keccak_f(a)
    return b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


def eip55(addr_hex_lower: str) -> str:
    h = keccak256(addr_hex_lower.encode()).hex()
    return "0x" + "".join(ch.upper() if ch.isalpha() and int(h[i], 16) >= 8 else ch
                          for i, ch in enumerate(addr_hex_lower))


_B32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _b32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def _b32_hrp(hrp):
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data, frombits, tobits):
    acc, bits, ret, maxv = 0, 0, [], (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if bits:
        ret.append((acc << (tobits - bits)) & maxv)
    return ret


def bech32_p2wpkh(prog20: bytes) -> str:
    data = [0] + _convertbits(prog20, 8, 5)
    pm = _b32_polymod(_b32_hrp("bc") + data + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(_B32[d] for d in data + chk)


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check_p2pkh(h160: bytes) -> str:
    raw = b"\x00" + h160
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * pad + out


# ----------------------------------------------------------------------------
# static reference data (all fictitious)
# ----------------------------------------------------------------------------
# phone entries: (country calling code, national significant number)
ESPS = {
    "ChatNest": {"support": ("support@chatnest.example", ("+1", "2025550141")),
                 "legal": ("legal@chatnest.example", ("+1", "2025550142")),
                 "person": ("Dana", "Reyes"), "country": "US"},
    "PixaShare": {"support": ("safety@pixashare.example", ("+1", "4155550163")),
                  "legal": ("lawenforcement@pixashare.example", ("+1", "4155550164")),
                  "person": ("Morgan", "Lee"), "country": "US"},
    "LiveLoop": {"support": ("trust@liveloop.example", ("+1", "3125550178")),
                 "legal": ("legal-requests@liveloop.example", ("+1", "3125550179")),
                 "person": ("Sam", "Okafor"), "country": "US"},
    "Sabai Social": {"support": ("support@sabaisocial.example", ("+66", "615550190")),
                     "legal": ("legal@sabaisocial.example", ("+66", "615550191")),
                     "person": ("Kanya", "Thepsiri"), "country": "TH"},
    "TalkTown": {"support": ("abuse@talktown.example", ("+44", "2079460123")),
                 "legal": ("legal@talktown.example", ("+44", "2079460124")),
                 "person": ("Alex", "Carter"), "country": "GB"},
}
ESP_NAMES = list(ESPS)
PLATFORM_CSV_ESP = "Sabai Social"
VENDOR = {"name": "ModSafe Example Ltd", "email": "reports@modsafe.example",
          "phone": ("+1", "6465550119"), "person": ("Robin", "Hale")}
LE_AGENCIES = [
    {"agency": "Online Child Protection Desk, Example Provincial Police",
     "email": "ocp.desk@police.example", "phone": ("+66", "25550155"),
     "officer": ("Pol.Capt. Narin", "Example")},
    {"agency": "Example County ICAC Task Force", "email": "icac.intake@county.example",
     "phone": ("+1", "2025550100"), "officer": ("Det. Casey", "Morgan")},
]
HOTLINE = {"name": "Thai Child Online Hotline (example)", "email": "reports@childhotline.example",
           "phone": ("+66", "25550177"), "person": ("Pranee", "Hotline")}
PARTNER = {"name": "Partner Hotline Network (example)", "email": "intake@partnerhotline.example",
           "phone": ("+44", "2079460555")}
SMALL_HOSTS = ["smallchat.example", "kluayboard.example"]
FILE_HOSTS = ["files.example.net", "dl.sharebox.example"]
COMMON_NAMES = [("Somchai", "Jaidee"), ("Somsak", "Rakthai"), ("John", "Smith")]

FIRST_TH = ["Anan", "Kittisak", "Niran", "Pravit", "Sakda", "Thanawat", "Wichai", "Chaiwat",
            "Narong", "Prasert", "Apinya", "Kanokwan", "Nattaya", "Pimchanok", "Siriporn",
            "Wanida", "Jiraporn", "Rattana", "Supaporn", "Thidarat", "Phuwadon", "Teerapat",
            "Arthit", "Boonsong", "Chalerm", "Duangjai", "Ekkachai", "Kamon", "Lamai", "Mayuree"]
LAST_TH = ["Boonmee", "Chaiyaporn", "Kongsuk", "Meechai", "Nakprasert", "Phromma", "Rattanakul",
           "Saengthong", "Thongdee", "Wongsawat", "Kaewmanee", "Srisawat", "Panyadee",
           "Intharasuk", "Chuenchom", "Detkhong", "Hanwong", "Jantarat", "Khemthong", "Lertsiri"]
FIRST_EN = ["Aaron", "Blake", "Carmen", "Derek", "Elena", "Felix", "Grace", "Hector", "Irene",
            "Jared", "Kira", "Lucas", "Marta", "Nolan", "Olive", "Paolo", "Quinn", "Rosa",
            "Stefan", "Tara", "Victor", "Wendy", "Yusuf", "Zelda"]
LAST_EN = ["Abbott", "Brennan", "Castillo", "Dalton", "Ellison", "Foster", "Garrido", "Hughes",
           "Ibarra", "Jensen", "Keller", "Lindqvist", "Moreau", "Novak", "Ortega", "Pryce",
           "Quintero", "Ramsey", "Sandoval", "Thorne", "Underwood", "Vance", "Whitlock"]
SYL = ["nong", "fah", "moon", "star", "dark", "kitty", "tiger", "lucky", "mew", "ploy", "ice",
       "nut", "fern", "gam", "jay", "max", "zen", "sky", "boss", "pete", "ohm", "bee", "pim",
       "tar", "mild", "film", "golf", "beam", "earth", "fluke", "angel", "night", "wolf", "rain"]

INC_CP = "Child Pornography (possession, manufacture, and distribution)"
INC_ENT = "Online Enticement of Children for Sexual Acts"
INC_OTHER = ["Unsolicited Obscene Material Sent to a Child", "Child Sex Trafficking",
             "Misleading Words or Digital Images on the Internet"]
EN_NOTES = ["user uploaded flagged file", "account reported by moderator",
            "hash match on upload", "account reported by another user",
            "flagged file shared in group chat", "account disabled after review"]
TH_NOTES = ["พบบัญชีโพสต์ลิงก์ไฟล์ที่ถูกตั้งค่าสถานะ", "ผู้ดูแลระบบรายงานบัญชีนี้",
            "ผู้แจ้งพบลิงก์ในกลุ่มแชท", "ลิงก์ถูกส่งต่อหลายครั้ง", "ผู้ปกครองแจ้งบัญชีนี้",
            "บัญชีถูกรายงานโดยผู้ใช้รายอื่น", "ตรวจพบไฟล์ที่ถูกตั้งค่าสถานะ"]
TH_REPORTER_TYPES = ["ประชาชนทั่วไป (public)", "ผู้ปกครอง (parent)", "องค์กรเอกชน (NGO)",
                     "แพลตฟอร์ม (platform)", "ครู (teacher)"]
PRIORITY_TEXT = {  # (english free-text marker, thai marker, platform reason)
    "live": ("content was live-streamed", "มีการไลฟ์สด (live stream)", "live_stream"),
    "sext": ("sextortion: payment demanded", "ข่มขู่เรียกเงิน (sextortion)", "sextortion"),
    "infant": ("infant depicted", "เกี่ยวข้องกับทารก (infant)", "csam_infant"),
    "producer": ("files appear self-produced", "ผู้ใช้ผลิตไฟล์เอง (self-produced)", "self_produced"),
}
PRIORITY_NAME = {"live": "live_streaming", "sext": "sextortion_money", "infant": "infant",
                 "producer": "producer"}
FORMATS = ["json", "xml", "lecsv", "thai", "platform"]
TARGET = {"json": 90, "xml": 60, "lecsv": 70, "thai": 45, "platform": 40}


# ----------------------------------------------------------------------------
# small formatting helpers
# ----------------------------------------------------------------------------
def fmt_dt(dt: datetime, tz: str) -> str:
    if tz == "Z":
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = 1 if tz[0] == "+" else -1
    off = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    return dt.astimezone(off).isoformat(timespec="seconds")


def phone_text_forms(cc: str, nat: str) -> list[str]:
    """Free-text spellings of one phone number."""
    if cc == "+66":
        if len(nat) == 9:  # mobile 8x-xxx-xxxx
            a, b, c = nat[:2], nat[2:5], nat[5:]
            return ["0" + nat, f"+66 {a} {b} {c}", "66" + nat, "0066" + nat, f"0{a}-{b}-{c}",
                    "+66" + nat, f"0{a} {b} {c}", f"+66-{a}-{b}-{c}"]
        a, b, c = nat[:1], nat[1:4], nat[4:]  # Bangkok landline 2-xxx-xxxx
        return [f"0{a}-{b}-{c}", f"+66 {a} {b} {c}", "0" + nat, "+66" + nat]
    if cc == "+1":
        a, b, c = nat[:3], nat[3:6], nat[6:]
        return [f"+1 {a}-{b}-{c}", f"+1 ({a}) {b}-{c}", "+1" + nat, f"001 {a} {b} {c}",
                f"+1-{a}-{b}-{c}"]
    if cc == "+44":
        return [f"+44 {nat[:2]} {nat[2:6]} {nat[6:]}", "+44" + nat, f"0{nat[:2]} {nat[2:6]} {nat[6:]}"]
    return [cc + nat]


def struct_token(cc, nat):
    return f'countryCallingCode="{cc}" number="{nat}"'


# ----------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------
class Ident:
    """One real identifier of a network's person, with its spellings."""

    def __init__(self, kind, sub, canonical, formats, forms, platform=None, struct=None,
                 t0=None, label=None):
        self.kind, self.sub, self.canonical = kind, sub, canonical
        self.formats = formats
        self.forms = forms
        self.platform = platform
        self.struct = struct  # (cc, nat) for phones
        self.t0 = t0  # ip: base time of the one-hour window
        self.uses = []  # (rid, token)
        self._cycle = []
        self.label = label

    def next_form(self, rng, allow_struct=False):
        if not self._cycle:
            self._cycle = list(self.forms) + (["<STRUCT>"] if self.struct else [])
            rng.shuffle(self._cycle)
        for i, f in enumerate(self._cycle):
            if f != "<STRUCT>" or allow_struct:
                return self._cycle.pop(i)
        return self.forms[0]


class Ref:
    def __init__(self, rid, fmt):
        self.rid, self.fmt = rid, fmt
        self.esp = None
        self.time = None
        self.tz = "Z"
        self.network = None
        self.first = self.last = None
        self.screen = None
        self.uid = None
        self.omit_uid = False
        self.no_platform = False
        self.reporter = "esp"  # esp | vendor | hotline
        self.emails = []  # (text, verified)
        self.phones = []  # {"text":..} or {"cc":..,"number":..}
        self.ips = []  # {"ip":..,"dt":..,"tz":..,"proxy":bool}
        self.profile_urls = []
        self.line_ids = []
        self.payments = []  # (kind, token)
        self.wallets = []  # (kind, token)
        self.files = []  # {"name","md5","ann":[...],"url"}
        self.rep_ann = []
        self.incident_type = INC_CP
        self.country = None
        self.le = None
        self.partner = False
        self.flags = []
        self.notes = []
        self.th_notes = []
        self.reported_url = None
        self.reporter_type = None
        self.contacts = []  # thai contact column pieces
        self.reason = []
        self.extra_person = None
        self.fixed = False


class Ctx:
    def __init__(self, seed, part):
        self.rng = random.Random(f"{part}:{seed}")
        self.part = part
        self.used = set()  # membership only, never iterated
        self.refs = []
        self.by_id = {}
        self.base = datetime(2024, 1, 8, tzinfo=UTC) if part == "dev" else datetime(2024, 3, 4, tzinfo=UTC)
        self.span_days = 260
        pool = [f"{net}.{i}" for net in ("192.0.2", "198.51.100", "203.0.113") for i in range(1, 255)]
        self.rng.shuffle(pool)
        self.ipv4_pool = pool
        self.networks = []
        self.decoys = []
        for e in ESPS.values():
            for _, (cc, nat) in (e["support"], e["legal"]):
                self.claim_phone(cc, nat)
        for cc, nat in [VENDOR["phone"], HOTLINE["phone"], PARTNER["phone"]] + [a["phone"] for a in LE_AGENCIES]:
            self.claim_phone(cc, nat)

    # ---- registries ---------------------------------------------------------
    def claim(self, key):
        if key in self.used:
            return False
        self.used.add(key)
        return True

    def phone_free(self, cc, nat):
        e = cc[1:] + nat
        if "ph:" + e in self.used:
            return False
        for i in range(len(cc) - 1, len(e)):
            for d in DIGITS:
                if d != e[i] and "ph:" + e[:i] + d + e[i + 1:] in self.used:
                    return False
        return True

    def claim_phone(self, cc, nat):
        self.used.add("ph:" + cc[1:] + nat)

    def fresh_th_nat(self):
        while True:
            nat = self.rng.choice("689") + "".join(self.rng.choice(DIGITS) for _ in range(8))
            if self.phone_free("+66", nat):
                self.claim_phone("+66", nat)
                return nat

    def fresh_us_nat(self):
        while True:
            nat = self.rng.choice(["202", "212", "305", "312", "415", "503", "617", "713", "818"]) \
                + "55501" + "".join(self.rng.choice(DIGITS) for _ in range(2))
            if self.phone_free("+1", nat):
                self.claim_phone("+1", nat)
                return nat

    def fresh_phone(self, thai):
        if thai:
            return ("+66", self.fresh_th_nat())
        return ("+1", self.fresh_us_nat())

    def fresh_rid(self, fmt):
        r = self.rng
        while True:
            if fmt in ("json", "xml", "lecsv"):
                rid = str(r.randint(180000000, 189999999) if self.part == "dev" else r.randint(190000000, 199999999))
            elif fmt == "thai":
                rid = "THL-2567-%05d" % r.randint(100, 99999)
            else:
                rid = "SBS-CASE-%06d" % r.randint(1000, 999999)
            if self.claim("rid:" + rid):
                return rid

    def fresh_username(self):
        r = self.rng
        while True:
            a, b = r.sample(SYL, 2)
            sep = r.choice(["", "_", ".", "_", ""])
            num = str(r.randint(1, 9999)) if r.random() < 0.85 else ""
            style = r.random()
            if style < 0.4:
                raw = a + sep + b + num
            elif style < 0.8:
                raw = a.capitalize() + sep + b.capitalize() + num
            else:
                raw = a + sep + b.upper() + num
            if self.claim("u:" + raw.lower()):
                return raw

    def fresh_line(self):
        while True:
            a, b = self.rng.sample(SYL, 2)
            raw = f"{a}{b}.{self.rng.randint(1, 999)}"
            if self.claim("u:" + raw) and self.claim("line:" + raw):
                return raw

    def fresh_email_parts(self, gmail=None):
        r = self.rng
        while True:
            a, b = r.sample(SYL, 2)
            local = a + (r.choice([".", "", "_", "."]) if not gmail else ".") + b + str(r.randint(1, 999))
            if gmail is None:
                domain = r.choice(["example.com", "example.org", "example.net", "mail.example",
                                   "gmail.example", "inbox.example"])
            elif gmail:
                domain = "gmail.example"
            else:
                domain = r.choice(["example.com", "example.org", "example.net", "mail.example"])
            key = "e:" + local.replace(".", "").lower() + "@" + domain
            if self.claim(key):
                return local, domain

    def fresh_email(self):
        local, domain = self.fresh_email_parts()
        return local + "@" + domain

    def fresh_uid(self):
        while True:
            uid = str(self.rng.randint(10 ** 8, 10 ** 10 - 1))
            if self.claim("id:" + uid):
                return uid

    def fresh_ip(self, v6=False):
        if not v6 and self.ipv4_pool:
            ip = self.ipv4_pool.pop()
            self.used.add("ip:" + ip)
            return ip
        while True:
            a = ipaddress.IPv6Address("2001:db8:%x:%x::%x" % (self.rng.randint(1, 0xffff),
                                                             self.rng.randint(0, 0xffff),
                                                             self.rng.randint(1, 0xffff)))
            if self.claim("ip:" + a.compressed):
                return a.compressed

    def fresh_md5(self):
        return "%032x" % self.rng.getrandbits(128)

    def fresh_filename(self):
        r = self.rng
        pat = r.choice(["IMG_%04d.jpg", "VID_%04d.mp4", "DSC%05d.JPG", "image%03d.png",
                        "clip_%04d.mov", "photo_%04d.jpeg"])
        return pat % r.randint(1, 9999)

    def fresh_name(self, thai):
        r = self.rng
        while True:
            f, l = (r.choice(FIRST_TH), r.choice(LAST_TH)) if thai else (r.choice(FIRST_EN), r.choice(LAST_EN))
            if self.claim("n:" + f + " " + l):
                return f, l

    def fresh_url(self):
        r = self.rng
        while True:
            host = f"{r.choice(SYL)}{r.choice(SYL)}{r.randint(1, 99)}.example"
            if self.claim("host:" + host):
                return f"https://{host}/{r.choice(['t', 'p', 'post', 'view'])}/{r.randint(1000, 99999)}"

    def rand_time(self):
        return self.base + timedelta(minutes=self.rng.randint(0, self.span_days * 24 * 60))

    def new_ref(self, fmt, network=None):
        ref = Ref(self.fresh_rid(fmt), fmt)
        ref.network = network
        self.refs.append(ref)
        self.by_id[ref.rid] = ref
        return ref


# ----------------------------------------------------------------------------
# identifier factories
# ----------------------------------------------------------------------------
ALLF = ["json", "xml", "lecsv", "thai", "platform"]
KIND_FORMATS = {
    "phone": ALLF, "email": ["json", "xml", "lecsv", "platform"],
    "promptpay": ALLF, "bank_account": ALLF, "truemoney": ALLF,
    "btc_wallet": ALLF, "eth_wallet": ALLF, "ip": ["json", "xml", "lecsv", "platform"],
    "platform_account": ["json", "xml", "lecsv", "platform"],
    "username": ["json", "xml", "lecsv", "platform"],
    "line_id": ["thai", "json", "platform"], "profile_url": ["thai", "json"],
}
SUB_KIND = {
    "phone_th": "phone", "phone_intl": "phone", "email": "email", "email_gmail": "email",
    "promptpay_phone": "promptpay", "promptpay_id": "promptpay", "bank_account": "bank_account",
    "truemoney": "truemoney", "btc_bech32": "btc_wallet", "btc_base58": "btc_wallet",
    "eth": "eth_wallet", "ip4": "ip", "ip6": "ip", "account": "platform_account",
    "username": "username", "line_id": "line_id", "profile_url": "profile_url",
}
TH_SUBS = ["phone_th", "promptpay_phone", "promptpay_id", "bank_account", "truemoney",
           "line_id", "profile_url"]
ANY_SUBS = ["email", "email_gmail", "btc_bech32", "btc_base58", "eth", "ip4", "ip6",
            "account", "username"]
PAY_SUBS = ["promptpay_phone", "promptpay_id", "bank_account", "truemoney", "btc_bech32",
            "btc_base58", "eth"]


def thai_id_invalid(rng):
    """13-digit Thai-ID-shaped number whose check digit is deliberately WRONG."""
    body = str(rng.randint(1, 8)) + "".join(rng.choice(DIGITS) for _ in range(11))
    s = sum(int(body[i]) * (13 - i) for i in range(12))
    good = (11 - s % 11) % 10
    return body + str((good + 1 + rng.randint(0, 8)) % 10)


def email_forms(local, domain, gmail):
    cap_local = ".".join(p.capitalize() for p in local.split("."))
    forms = [local + "@" + domain, cap_local + "@" + domain,
             local.upper() + "@" + domain.upper(), local + "@" + domain.capitalize()]
    if gmail:
        nodot = local.replace(".", "")
        forms += [nodot + "@" + domain, nodot.capitalize() + "@Gmail.Example"]
        if len(nodot) > 5:
            forms.append(nodot[:3] + "." + nodot[3:5] + "." + nodot[5:] + "@" + domain)
    out = []
    for f in forms:
        if f not in out:
            out.append(f)
    return out


def make_ident(ctx: Ctx, sub, thai, platform=None, t0=None):
    r = ctx.rng
    kind = SUB_KIND[sub]
    fm = list(KIND_FORMATS[kind])
    if sub == "phone_th":
        nat = ctx.fresh_th_nat()
        return Ident(kind, sub, "+66" + nat, fm, phone_text_forms("+66", nat), struct=("+66", nat))
    if sub == "phone_intl":
        nat = ctx.fresh_us_nat()
        return Ident(kind, sub, "+1" + nat, fm, phone_text_forms("+1", nat), struct=("+1", nat))
    if sub in ("email", "email_gmail"):
        gmail = sub == "email_gmail"
        local, domain = ctx.fresh_email_parts(gmail=gmail)
        canon = (local.replace(".", "") if gmail else local).lower() + "@" + domain
        return Ident(kind, sub, canon, fm, email_forms(local, domain, gmail))
    if sub == "promptpay_phone":
        nat = ctx.fresh_th_nat()
        return Ident(kind, sub, "promptpay:+66" + nat, fm, phone_text_forms("+66", nat)[:6])
    if sub == "promptpay_id":
        tid = thai_id_invalid(r)
        ctx.claim("tid:" + tid)
        f = [tid, f"{tid[0]}-{tid[1:5]}-{tid[5:10]}-{tid[10:12]}-{tid[12]}",
             f"{tid[0]} {tid[1:5]} {tid[5:10]} {tid[10:12]} {tid[12]}"]
        return Ident(kind, sub, "promptpay:" + tid, fm, f)
    if sub == "bank_account":
        acct = str(r.randint(1, 9)) + "".join(r.choice(DIGITS) for _ in range(9))
        ctx.claim("bank:" + acct)
        f = [acct, f"{acct[:3]}-{acct[3]}-{acct[4:9]}-{acct[9]}", f"{acct[:3]} {acct[3]} {acct[4:9]} {acct[9]}",
             f"{acct[:3]}-{acct[3:9]}-{acct[9]}"]
        return Ident(kind, sub, "bank:EXB:" + acct, fm, f)
    if sub == "truemoney":
        nat = ctx.fresh_th_nat()
        return Ident(kind, sub, "truemoney:+66" + nat, fm, phone_text_forms("+66", nat)[:6])
    if sub == "btc_bech32":
        addr = bech32_p2wpkh(r.randbytes(20))
        return Ident(kind, sub, addr, fm, [addr, addr.upper(), "bitcoin:" + addr])
    if sub == "btc_base58":
        addr = base58check_p2pkh(r.randbytes(20))
        return Ident(kind, sub, addr, fm, [addr, "bitcoin:" + addr])
    if sub == "eth":
        h = r.randbytes(20).hex()
        return Ident(kind, sub, "0x" + h, fm, ["0x" + h, eip55(h)])
    if sub in ("ip4", "ip6"):
        ip = ctx.fresh_ip(v6=(sub == "ip6"))
        forms = [ip]
        if sub == "ip6":
            a = ipaddress.IPv6Address(ip)
            forms = [a.compressed, a.compressed.upper(), a.exploded,
                     ":".join(p.lstrip("0") or "0" for p in a.exploded.split(":"))]
        return Ident(kind, sub, ip, fm, forms, t0=t0)
    if sub == "account":
        uid = ctx.fresh_uid()
        fm = ["json", "xml", "lecsv"] + (["platform"] if platform == PLATFORM_CSV_ESP else [])
        return Ident(kind, sub, f"{platform}:{uid}", fm, [uid], platform=platform)
    if sub == "username":
        u = ctx.fresh_username()
        fm = ["json", "xml", "lecsv"] + (["platform"] if platform == PLATFORM_CSV_ESP else [])
        forms = [u, u.lower(), u.upper(), " " + u + " ", u.lower() + " ", " " + u]
        out = []
        for f in forms:
            if f not in out:
                out.append(f)
        return Ident(kind, sub, f"{platform}:{u.lower()}", fm, out, platform=platform)
    if sub == "line_id":
        lid = ctx.fresh_line()
        cap = ".".join(p.capitalize() for p in lid.split("."))
        return Ident(kind, sub, "line:" + lid, fm, [lid, "@" + lid, cap, lid.upper(), "@" + cap])
    if sub == "profile_url":
        host = r.choice(SMALL_HOSTS)
        u = ctx.fresh_username().lower()
        path = f"/u/{u}" if host == SMALL_HOSTS[0] else f"/member/{u}"
        hc = host.replace(host.split(".")[0], host.split(".")[0].capitalize(), 1)
        forms = [f"https://{host}{path}", f"http://www.{host}{path}/", f"https://{hc}{path}?ref=share",
                 f"{host}{path}", f"https://www.{host}{path}"]
        return Ident(kind, sub, f"{host}{path}", fm, forms)
    raise ValueError(sub)


# ----------------------------------------------------------------------------
# writing identifiers into referrals
# ----------------------------------------------------------------------------
def pay_phrase(kind, token, thai_lang):
    if kind == "promptpay":
        return (f"พร้อมเพย์ {token}" if thai_lang else f"PromptPay {token}")
    if kind == "bank_account":
        return (f"บัญชีธนาคารตัวอย่าง (Example Bank) เลขที่ {token}" if thai_lang
                else f"Example Bank account {token}")
    if kind == "truemoney":
        return (f"ทรูมันนี่ วอลเล็ท {token}" if thai_lang else f"TrueMoney Wallet {token}")
    if kind == "btc_wallet":
        return (f"กระเป๋า BTC {token}" if thai_lang else f"BTC wallet {token}")
    if kind == "eth_wallet":
        return (f"กระเป๋า ETH {token}" if thai_lang else f"ETH wallet {token}")
    raise ValueError(kind)


def apply_ident(ctx: Ctx, ref: Ref, ident: Ident):
    """Write one network identifier into a referral, in a chosen spelling."""
    r = ctx.rng
    k = ident.kind
    structured_ok = ref.fmt in ("json", "xml")
    if k == "phone":
        form = ident.next_form(r, allow_struct=structured_ok)
        if form == "<STRUCT>":
            cc, nat = ident.struct
            ref.phones.append({"cc": cc, "number": nat})
            token = struct_token(cc, nat)
        else:
            ref.phones.append({"text": form})
            token = form
        if ref.fmt == "thai":
            ref.contacts.append(r.choice(["โทร ", "เบอร์ ", "Tel. ", ""]) + form)
    elif k == "email":
        token = ident.next_form(r)
        ref.emails.append((token, r.random() < 0.6))
    elif k in ("promptpay", "bank_account", "truemoney"):
        token = ident.next_form(r)
        ref.payments.append((k, token))
    elif k in ("btc_wallet", "eth_wallet"):
        token = ident.next_form(r)
        ref.wallets.append((k, token))
    elif k == "ip":
        token_ip = ident.next_form(r)
        used_offsets = [u[2] for u in ident.uses]
        while True:
            off = r.randint(0, 50)
            if all(abs(off - o) >= 2 for o in used_offsets):
                break
        dt = ident.t0 + timedelta(minutes=off)
        tz = ctx_tz_choice(r, ref)
        ref.ips.append({"ip": token_ip, "dt": dt, "tz": tz, "proxy": False})
        token = f"{token_ip} @ {fmt_dt(dt, tz)}"
        ident.uses.append((ref.rid, token, off))
        if ref.time is None or ref.time < dt:
            ref.time = dt + timedelta(minutes=r.randint(5, 240))
        return
    elif k == "platform_account":
        token = ident.forms[0]
        ref.uid = token
        ref.esp = ident.platform
    elif k == "username":
        token = ident.next_form(r)
        ref.screen = token
        ref.esp = ident.platform
        ref.omit_uid = True
    elif k == "line_id":
        token = ident.next_form(r)
        ref.line_ids.append(token)
        if ref.fmt == "thai":
            ref.contacts.append(r.choice(["LINE: ", "Line ID ", "ไลน์ ", "line id: "]) + token)
    elif k == "profile_url":
        token = ident.next_form(r)
        if ref.fmt == "thai":
            ref.reported_url = token
        else:
            ref.profile_urls.append(token)
    else:
        raise ValueError(k)
    ident.uses.append((ref.rid, token, None))


def ctx_tz_choice(r, ref):
    if ref.country == "TH":
        return r.choice(["Z", "+07:00", "+07:00"])
    return r.choice(["Z", "Z", "+00:00", "-05:00", "+01:00"])


# ----------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------
def plan_networks(ctx: Ctx, n_networks=12):
    r = ctx.rng
    for _ in range(200):
        thai_flags = [True] * 7 + [False] * (n_networks - 7)
        r.shuffle(thai_flags)
        plans = [{"thai": t, "subs": []} for t in thai_flags]
        required = TH_SUBS + ["phone_th", "phone_th"] + ["phone_intl"] + ANY_SUBS + \
            ["ip4", "email_gmail", "account", "username"]
        r.shuffle(required)
        required.sort(key=lambda s: 0 if (s in TH_SUBS or s == "phone_intl") else 1)
        for sub in required:
            elig = [p for p in plans if len(p["subs"]) < 4 and sub not in p["subs"]
                    and (p["thai"] or sub not in TH_SUBS) and (not p["thai"] or sub != "phone_intl")]
            lo = min(len(p["subs"]) for p in elig)
            r.choice([p for p in elig if len(p["subs"]) == lo])["subs"].append(sub)
        for p in plans:
            pool = (TH_SUBS + ANY_SUBS) if p["thai"] else (["phone_intl"] + ANY_SUBS)
            k = max(len(p["subs"]), r.choice([2, 3, 3, 4]))
            while len(p["subs"]) < k:
                sub = r.choice([x for x in pool if x not in p["subs"]])
                p["subs"].append(sub)
        if not all(any(s in TH_SUBS for s in p["subs"]) for p in plans if p["thai"]):
            continue
        pay_nets = [i for i, p in enumerate(plans) if any(s in PAY_SUBS for s in p["subs"])]
        if len(pay_nets) < 3:
            continue
        break
    else:
        raise RuntimeError("could not plan networks")
    # priorities
    idx = list(range(n_networks))
    sext = r.sample(pay_nets, r.choice([2, 3]))
    rest = [i for i in idx if i not in sext]
    quiet = r.sample(rest, 2)  # networks with no content priority
    cand = [i for i in idx if i not in quiet]
    for i in sext:
        plans[i].setdefault("flags", []).append("sext")
    for fl in ("live", "infant", "producer"):
        for i in r.sample(cand, r.choice([2, 3])):
            plans[i].setdefault("flags", []).append(fl)
    sizes = [3, 10] + [r.choice([3, 4, 4, 5, 5, 6, 6, 7, 8, 9]) for _ in range(n_networks - 2)]
    r.shuffle(sizes)
    for i, p in enumerate(plans):
        p["size"] = sizes[i]
        p.setdefault("flags", [])
        p["nid"] = "N%02d" % (i + 1)
    return plans


def build_network(ctx: Ctx, plan):
    r = ctx.rng
    thai = plan["thai"]
    center = ctx.base + timedelta(days=r.randint(30, ctx.span_days - 30))
    esps = ESP_NAMES if thai else [e for e in ESP_NAMES if e != PLATFORM_CSV_ESP]
    # platforms for scoped identifiers
    scoped_platforms = []
    idents = []
    for sub in plan["subs"]:
        platform = None
        if sub in ("account", "username"):
            choices = [e for e in esps if e not in scoped_platforms]
            if thai and PLATFORM_CSV_ESP in choices and r.random() < 0.5:
                platform = PLATFORM_CSV_ESP
            else:
                platform = r.choice(choices)
            scoped_platforms.append(platform)
        t0 = center + timedelta(minutes=r.randint(-20000, 20000)) if sub in ("ip4", "ip6") else None
        idents.append(make_ident(ctx, sub, thai, platform=platform, t0=t0))
    fmts = [f for f in FORMATS if thai or f not in ("thai", "platform")]
    weights = {"json": 3, "xml": 2, "lecsv": 2.5, "thai": 1.6, "platform": 1.2}
    name = ctx.fresh_name(thai) if not plan.get("common_name") else plan["common_name"]
    country = "TH" if thai else r.choice(["US", "GB", "PH", "AU", "CA"])
    use = {id(i): 0 for i in idents}
    members = []
    for mi in range(plan["size"]):
        for _attempt in range(500):
            if mi == 0:
                fmt = r.choice([f for f in ("json", "xml", "lecsv")])
            else:
                fmt = r.choices(fmts, [weights[f] for f in fmts])[0]
            compat = [i for i in idents if fmt in i.formats and not (i.kind == "ip" and use[id(i)] >= 4)]
            linkers = [i for i in compat if use[id(i)] > 0]
            if compat and (mi == 0 or linkers):
                break
        else:
            raise RuntimeError("no format")
        ref = ctx.new_ref(fmt, plan["nid"])
        ref.country = country
        chosen = []
        if mi == 0:
            first = r.choice(compat)
        else:
            lo = min(use[id(i)] for i in linkers)
            first = r.choice([i for i in linkers if use[id(i)] == lo])
        chosen.append(first)
        others = [i for i in compat if i is not first]
        # prefer identifiers that are not yet shared
        if others and (r.random() < 0.55 or any(use[id(i)] == 0 for i in others) and r.random() < 0.8):
            others.sort(key=lambda i: use[id(i)])
            second = others[0] if r.random() < 0.75 else r.choice(others)
            chosen.append(second)
        # constraints: one scoped platform per referral; single-valued platform columns
        final = []
        plat = None
        seen_cols = []
        for i in chosen:
            if i.platform:
                if plat and plat != i.platform:
                    continue
                plat = i.platform
            col = {"promptpay": "pay", "bank_account": "pay", "truemoney": "pay",
                   "btc_wallet": "wallet", "eth_wallet": "wallet"}.get(i.kind, i.kind)
            if fmt == "platform" and col in seen_cols:
                continue
            if fmt == "thai" and i.kind == "profile_url" and ref.reported_url:
                continue
            seen_cols.append(col)
            final.append(i)
        for i in final:
            apply_ident(ctx, ref, i)
            use[id(i)] += 1
        if ref.time is None:
            ref.time = center + timedelta(minutes=r.randint(-90 * 1440, 90 * 1440))
        if ref.fmt in ("json", "xml", "lecsv") and ref.esp is None:
            ref.esp = r.choice(esps)
        if ref.fmt == "platform":
            ref.esp = PLATFORM_CSV_ESP
        if ref.fmt in ("json", "xml", "lecsv", "platform") and r.random() < 0.55:
            ref.first, ref.last = name
        ref.tz = ctx_tz_choice(r, ref)
        members.append(ref)
    return idents, members, name


def place_priorities(ctx: Ctx, plan, members, idents):
    r = ctx.rng
    for fl in plan["flags"]:
        if fl == "sext":
            carriers = [m for m in members if m.payments or m.wallets]
            if not carriers:
                # write the network's payment identifier into one more member
                pay = [i for i in idents if i.kind in ("promptpay", "bank_account", "truemoney",
                                                        "btc_wallet", "eth_wallet")]
                m = next((m for m in members if m.fmt in ("json", "xml", "lecsv")), members[0])
                apply_ident(ctx, m, pay[0])
                carriers = [m]
            targets = carriers + r.sample(members, min(len(members), 1))
        else:
            ann = [m for m in members if m.fmt in ("json", "xml", "lecsv")]
            targets = r.sample(ann, min(len(ann), r.choice([1, 2, 2, 3])))
            if r.random() < 0.5:
                other = [m for m in members if m.fmt in ("thai", "platform")]
                if other:
                    targets.append(r.choice(other))
        for m in targets:
            if fl not in m.flags:
                m.flags.append(fl)


def apply_flags(ctx: Ctx, ref: Ref):
    r = ctx.rng
    for fl in ref.flags:
        en, th, reason = PRIORITY_TEXT[fl]
        if ref.fmt in ("json", "xml", "lecsv"):
            if fl == "sext":
                if "sextortion" not in ref.rep_ann:
                    ref.rep_ann.append("sextortion")
                ref.incident_type = INC_ENT
            else:
                ann = {"live": "liveStreaming", "infant": "infant", "producer": "possibleSelfProduction"}[fl]
                if ref.files and r.random() < 0.5:
                    ref.files[0]["ann"].append(ann)
                else:
                    ref.files.append({"name": ctx.fresh_filename(), "md5": ctx.fresh_md5(), "ann": [ann], "url": None})
        elif ref.fmt == "thai":
            ref.th_notes.append(th)
        else:
            ref.reason.append(reason)


# ----------------------------------------------------------------------------
# decoys
# ----------------------------------------------------------------------------
def new_plain(ctx: Ctx, fmt, when=None, country=None):
    ref = ctx.new_ref(fmt)
    ref.time = when or ctx.rand_time()
    ref.country = country or ctx.rng.choice(["TH", "TH", "US", "PH", "GB", "MY", "VN", "KH", "AU"])
    if fmt in ("json", "xml", "lecsv"):
        ref.esp = ctx.rng.choice(ESP_NAMES)
    elif fmt == "platform":
        ref.esp = PLATFORM_CSV_ESP
    ref.tz = ctx_tz_choice(ctx.rng, ref)
    return ref


def add_decoy(ctx, kind, members, why, value=None, extra=False):
    d = {"id": "D%02d" % (len(ctx.decoys) + 1), "kind": kind, "members": sorted(set(members)),
         "why_not_linked": why}
    if value is not None:
        d["value"] = value
    if extra:
        d["beyond_brief"] = True
    ctx.decoys.append(d)


def ip_event(ref, ip, dt, tz=None, proxy=False):
    ref.ips.append({"ip": ip, "dt": dt, "tz": tz or ref.tz, "proxy": proxy})
    if ref.time is None or ref.time < dt:
        ref.time = dt + timedelta(minutes=30)


def net_members(ctx, pred=lambda m: True):
    return [m for m in ctx.refs if m.network and pred(m)]


def build_decoys_identity(ctx: Ctx, net_idents):
    """Decoys that create their own referrals (or hook into chosen network referrals)."""
    r = ctx.rng
    ipfmts = ["json", "xml", "lecsv", "platform"]

    # --- XML user ids without a platform that collide across platforms (4)
    acct_idents = [(nid, i) for nid, ids in net_idents for i in ids if i.kind == "platform_account"]
    for g in range(4):
        if g == 0 and acct_idents:
            nid, ident = r.choice(acct_idents)
            uid = ident.forms[0]
            members = [rid for rid, _, _ in ident.uses]
            others = [e for e in ESP_NAMES if e != ident.platform]
            x = new_plain(ctx, "xml")
            x.uid, x.no_platform, x.reporter, x.esp = uid, True, "vendor", None
            o = new_plain(ctx, r.choice(["json", "lecsv", "xml"]))
            o.esp, o.uid = r.choice(others), uid
            add_decoy(ctx, "xml_user_id_without_platform", [x.rid, o.rid] + members,
                      f"espUserId {uid} appears in an XML report with no platform/espService "
                      f"(submitted by a multi-platform vendor) and in reports from other platforms; "
                      f"a bare user id is only an identifier together with its platform "
                      f"({nid}'s account is on {ident.platform}).", value=uid)
        else:
            uid = ctx.fresh_uid()
            x = new_plain(ctx, "xml")
            x.uid, x.no_platform, x.reporter, x.esp = uid, True, "vendor", None
            plats = r.sample(ESP_NAMES, r.choice([2, 3]))
            mem = [x.rid]
            for p in plats:
                o = new_plain(ctx, r.choice(["json", "lecsv", "xml"]))
                o.esp, o.uid = p, uid
                mem.append(o.rid)
            add_decoy(ctx, "xml_user_id_without_platform", mem,
                      f"espUserId {uid} is used on different platforms ({', '.join(plats)}) and once "
                      f"in an XML report that names no platform; same number, different accounts.",
                      value=uid)
    # a few more vendor-submitted XML reports that do name the platform
    for _ in range(3):
        x = new_plain(ctx, "xml")
        x.reporter = "vendor"

    # --- shared cafe Wi-Fi IPs months apart (4)
    for g in range(4):
        ip = ctx.fresh_ip()
        n = r.choice([3, 3, 4])
        t = ctx.base + timedelta(days=r.randint(0, 20))
        mem = []
        for k in range(n):
            ref = new_plain(ctx, r.choice(ipfmts))
            ip_event(ref, ip, t)
            mem.append(ref.rid)
            t = t + timedelta(days=r.randint(50, 80), minutes=r.randint(0, 1440))
        add_decoy(ctx, "shared_wifi_ip_months_apart", mem,
                  f"{ip} is a cafe Wi-Fi address seen in unrelated reports 50+ days apart; "
                  f"an IP only links within one hour.", value=ip)

    # --- VPN / CGNAT exit IPs used by many (3)
    for g in range(3):
        ip = ctx.fresh_ip()
        n = r.randint(8, 12)
        mem = []
        times = sorted(ctx.rand_time() for _ in range(n))
        close_pair = g < 2
        if close_pair:
            times[1] = times[0] + timedelta(minutes=r.randint(8, 35))
        for k, t in enumerate(times):
            ref = new_plain(ctx, r.choice(ipfmts))
            ip_event(ref, ip, t, proxy=r.random() < 0.5)
            mem.append(ref.rid)
        if g == 2:
            cands = [m for m in net_members(ctx, lambda m: m.fmt in ("json", "xml", "lecsv"))]
            m = r.choice(cands)
            ip_event(m, ip, m.time - timedelta(minutes=r.randint(60, 600)), proxy=True)
            mem.append(m.rid)
        gaps = []
        evs = sorted((e["dt"], rid) for rid in mem for e in ctx.by_id[rid].ips if e["ip"] == ip)
        for a, b in zip(evs, evs[1:]):
            gaps.append((b[0] - a[0]).total_seconds() / 60)
        add_decoy(ctx, "vpn_cgnat_exit_ip", mem,
                  f"{ip} is a VPN/CGNAT exit shared by {len(mem)} unrelated reports "
                  f"(minimum gap {int(min(gaps))} min); a high-fan-out shared exit is not a person identifier.",
                  value=ip)

    # --- same IP more than a day apart (4)
    for g in range(4):
        if g < 2:
            cands = [m for m in net_members(ctx, lambda m: m.fmt in ("json", "xml", "lecsv"))]
            m = r.choice(cands)
            ip = ctx.fresh_ip()
            ip_event(m, ip, m.time - timedelta(hours=r.randint(1, 5)))
            ev = m.ips[-1]
            o = new_plain(ctx, r.choice(ipfmts))
            ip_event(o, ip, ev["dt"] + timedelta(hours=r.randint(26, 70)) * r.choice([1, -1]))
            mem = [m.rid, o.rid]
        else:
            ip = ctx.fresh_ip(v6=(g == 3))
            a = new_plain(ctx, r.choice(ipfmts))
            t = ctx.rand_time()
            ip_event(a, ip, t)
            b = new_plain(ctx, r.choice(ipfmts))
            ip_event(b, ip, t + timedelta(hours=r.randint(25, 72), minutes=r.randint(0, 59)))
            mem = [a.rid, b.rid]
        add_decoy(ctx, "same_ip_over_a_day_apart", mem,
                  f"{ip} appears in both reports but more than 24 hours apart.", value=ip)

    # --- extra: local clock times look close but UTC differs by hours (1)
    ip = ctx.fresh_ip()
    t = ctx.rand_time()
    a = new_plain(ctx, "json", country="TH")
    ip_event(a, ip, t, tz="Z")
    b = new_plain(ctx, "lecsv", country="TH")
    ip_event(b, ip, t - timedelta(hours=7) + timedelta(minutes=r.randint(10, 40)), tz="+07:00")
    add_decoy(ctx, "ip_timezone_trap", [a.rid, b.rid],
              f"{ip}: wall-clock times look <1 h apart but one is +07:00; in UTC they are ~6.5 h apart.",
              value=ip, extra=True)

    # --- people with the same common name (3)
    for g, (f, l) in enumerate(COMMON_NAMES):
        n = r.randint(4, 6)
        mem = []
        for k in range(n):
            ref = new_plain(ctx, r.choice(["json", "xml", "lecsv", "platform"]),
                            country="TH" if g < 2 else r.choice(["US", "GB", "AU"]))
            ref.first, ref.last = f, l
            mem.append(ref.rid)
        if g == 0:
            # one network person also carries this common name
            cands = [m for m in net_members(ctx, lambda m: m.fmt in ("json", "xml", "lecsv", "platform")
                                            and m.country == "TH")]
            if cands:
                nid = r.choice(cands).network
                for m in net_members(ctx, lambda m: m.network == nid):
                    if m.first is not None:
                        m.first, m.last = f, l
                        mem.append(m.rid)
        add_decoy(ctx, "same_common_name", mem,
                  f"'{f} {l}' is a very common name; these reports share no identifier.",
                  value=f"{f} {l}")

    # --- near-miss phone numbers (5)
    th_phone_idents = [(nid, i) for nid, ids in net_idents for i in ids if i.sub == "phone_th" and i.uses]
    for g in range(5):
        if g < 2 and th_phone_idents:
            nid, ident = th_phone_idents[g % len(th_phone_idents)]
            cc, nat = ident.struct
            base_members = [rid for rid, _, _ in ident.uses]
        else:
            cc, nat = "+66", ctx.fresh_th_nat()
            a = new_plain(ctx, r.choice(FORMATS), country="TH")
            a.phones.append({"text": r.choice(phone_text_forms(cc, nat))})
            if a.fmt == "thai":
                a.contacts.append("โทร " + a.phones[-1]["text"])
            base_members = [a.rid]
        for _ in range(100):
            pos = r.randint(2, len(nat) - 1)
            d = r.choice([x for x in DIGITS if x != nat[pos]])
            near = nat[:pos] + d + nat[pos + 1:]
            if "ph:66" + near not in ctx.used:
                ctx.claim_phone(cc, near)
                break
        b = new_plain(ctx, r.choice(FORMATS), country="TH")
        form = r.choice(phone_text_forms(cc, near))
        b.phones.append({"text": form})
        if b.fmt == "thai":
            b.contacts.append("โทร " + form)
        add_decoy(ctx, "near_miss_phone", base_members + [b.rid],
                  f"0{nat} vs 0{near}: one digit apart, different numbers.",
                  value=[f"+66{nat}", f"+66{near}"])

    # --- extra: dots in a non-Gmail-style mailbox are significant (1)
    local, domain = ctx.fresh_email_parts(gmail=False)
    while "." not in local:
        local, domain = ctx.fresh_email_parts(gmail=False)
    other = local.replace(".", "")
    a = new_plain(ctx, r.choice(["json", "lecsv", "xml"]))
    a.emails.append((local + "@" + domain, True))
    b = new_plain(ctx, r.choice(["json", "lecsv", "platform"]))
    b.emails.append((other + "@" + domain, False))
    add_decoy(ctx, "email_dots_non_gmail_domain", [a.rid, b.rid],
              f"{local}@{domain} vs {other}@{domain}: dots are only ignored for the Gmail-style "
              f"domain gmail.example; on {domain} they are different mailboxes.",
              value=[local + "@" + domain, other + "@" + domain], extra=True)

    # --- profile URLs that share only a host (2)
    for g, host in enumerate(SMALL_HOSTS):
        mem = []
        for k in range(r.randint(4, 6)):
            u = ctx.fresh_username().lower()
            url = f"https://{host}/u/{u}" if g == 0 else f"https://{host}/member/{u}"
            if k % 3 == 2:
                ref = new_plain(ctx, "json")
                ref.profile_urls.append(url)
            else:
                ref = new_plain(ctx, "thai", country="TH")
                ref.reported_url = url
            mem.append(ref.rid)
        mem += [rid for nid, ids in net_idents for i in ids
                if i.kind == "profile_url" and i.canonical.startswith(host) for rid, _, _ in i.uses]
        add_decoy(ctx, "profile_url_same_host_only", mem,
                  f"different profiles on the small platform {host}; only the host name is shared.",
                  value=host)

    # --- a general file host (2)
    for g, host in enumerate(FILE_HOSTS):
        mem = []
        for k in range(r.randint(4, 7)):
            key = "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(10))
            url = f"https://{host}/d/{key}" if g == 0 else f"https://{host}/s/{key}/file"
            if k % 2 == 1:
                ref = new_plain(ctx, "json")
                ref.files.append({"name": ctx.fresh_filename(), "md5": ctx.fresh_md5(), "ann": [], "url": url})
            else:
                ref = new_plain(ctx, "thai", country="TH")
                ref.reported_url = url
            mem.append(ref.rid)
        add_decoy(ctx, "general_file_host", mem,
                  f"different files on the general-purpose file host {host}.", value=host)


def build_decoys_ambient(ctx: Ctx):
    """Decoys that are sprinkled over already-existing referrals."""
    r = ctx.rng
    nc = [x for x in ctx.refs if x.fmt in ("json", "xml", "lecsv")]
    # viral / potentialMeme files shared by many unrelated reports (3 + 3)
    for ann in ("viral", "potentialMeme"):
        for g in range(3):
            md5 = ctx.fresh_md5()
            hosts = r.sample(nc, r.randint(5, 9))
            for ref in hosts:
                ref.files.append({"name": ctx.fresh_filename(), "md5": md5, "ann": [ann], "url": None})
            add_decoy(ctx, f"{ann}_file_shared", [h.rid for h in hosts],
                      f"MD5 {md5} is a widely circulating file annotated '{ann}'; "
                      f"possessing the same file does not identify one person.", value=md5)
    # law-enforcement contact blocks (2)
    jx = [x for x in ctx.refs if x.fmt in ("json", "xml")]
    lx = [x for x in ctx.refs if x.fmt == "lecsv"]
    def ok_th(x):  # keep Thai-agency / Thai-hotline blocks off non-Thai networks
        return x.network is None or x.country == "TH"
    for g, ag in enumerate(LE_AGENCIES):
        hosts = r.sample([x for x in jx if x.le is None and (g or ok_th(x))], r.randint(4, 7)) + \
            r.sample([x for x in lx if x.le is None and (g or ok_th(x))], r.randint(1, 3))
        for h in hosts:
            h.le = g
        add_decoy(ctx, "law_enforcement_contact", [h.rid for h in hosts],
                  f"contact block of {ag['agency']} ({ag['email']}, {ag['phone'][0]} {ag['phone'][1]}), "
                  f"quoted because the case was already referred to it.",
                  value=[ag["email"], ag["phone"][0] + ag["phone"][1]])
    # hotline contact (Thai hotline's own block) and a partner hotline
    xmls = [x for x in ctx.refs if x.fmt == "xml" and x.reporter == "esp" and not x.no_platform and ok_th(x)]
    hx = r.sample(xmls, 4)
    for h in hx:
        h.reporter = "hotline"
    mem = [x.rid for x in ctx.refs if x.fmt == "thai"] + [h.rid for h in hx]
    add_decoy(ctx, "hotline_contact", mem,
              f"the Thai hotline's own contact ({HOTLINE['email']}, +66{HOTLINE['phone'][1]}) in the handled_by "
              f"column of every hotline row and as reporter of hotline-forwarded XML reports.",
              value=[HOTLINE["email"], "+66" + HOTLINE["phone"][1]])
    js = [x for x in ctx.refs if x.fmt == "json"]
    px = r.sample(js, r.randint(4, 6))
    for h in px:
        h.partner = True
    add_decoy(ctx, "partner_hotline_contact", [h.rid for h in px],
              f"partner hotline intake contact ({PARTNER['email']}) quoted in additionalInfo of forwarded reports.",
              value=[PARTNER["email"], PARTNER["phone"][0] + PARTNER["phone"][1]])
    # ESP support/legal contacts (one per ESP) and the moderation vendor
    for esp in ESP_NAMES:
        mem = [x.rid for x in ctx.refs if x.fmt in ("json", "lecsv") and x.esp == esp] + \
              [x.rid for x in ctx.refs if x.fmt == "xml" and x.esp == esp and x.reporter == "esp"]
        e = ESPS[esp]
        add_decoy(ctx, "esp_support_legal_contact", mem,
                  f"{esp}'s own support/legal contact ({e['support'][0]}, {e['legal'][0]}, "
                  f"{e['support'][1][0]}{e['support'][1][1]}) is printed in every report it files.",
                  value=[e["support"][0], e["legal"][0], "".join(e["support"][1]), "".join(e["legal"][1])])
    mem = [x.rid for x in ctx.refs if x.fmt == "xml" and x.reporter == "vendor"]
    add_decoy(ctx, "esp_support_legal_contact", mem,
              f"moderation vendor {VENDOR['name']} ({VENDOR['email']}) submits reports for several platforms.",
              value=[VENDOR["email"], "".join(VENDOR["phone"])])


# ----------------------------------------------------------------------------
# filling in everything not planted with fresh, unique values
# ----------------------------------------------------------------------------
def finalize(ctx: Ctx, ref: Ref):
    r = ctx.rng
    thai = ref.country == "TH"
    if ref.time is None:
        ref.time = ctx.rand_time()
    if ref.fmt in ("json", "xml", "lecsv"):
        if ref.esp is None and not ref.no_platform:
            ref.esp = r.choice(ESP_NAMES)
        if ref.screen is None and r.random() < 0.92:
            ref.screen = ctx.fresh_username()
        if ref.uid is None and not ref.omit_uid and r.random() < 0.9:
            ref.uid = ctx.fresh_uid()
        if ref.first is None and ref.network is None and r.random() < 0.35:
            ref.first, ref.last = ctx.fresh_name(thai)
        if not ref.emails and r.random() < 0.5:
            ref.emails.append((ctx.fresh_email(), r.random() < 0.5))
        if not ref.phones and r.random() < 0.3:
            ref.phones.append({"text": r.choice(phone_text_forms(*ctx.fresh_phone(thai)))})
        if len(ref.ips) < 2 and (not ref.ips or r.random() < 0.4):
            ip_event(ref, ctx.fresh_ip(v6=r.random() < 0.2), ref.time - timedelta(minutes=r.randint(1, 3000)))
        while len(ref.files) < 1 or (len(ref.files) < 3 and r.random() < 0.3):
            ref.files.append({"name": ctx.fresh_filename(), "md5": ctx.fresh_md5(), "ann": [], "url": None})
        if ref.network is None and r.random() < 0.12:
            ref.rep_ann.append(r.choice(["csamSolicitation", "sextortion", "minorToMinorInteraction"]))
        if ref.network is None and r.random() < 0.1:
            ref.files[0]["ann"].append(r.choice(["liveStreaming", "infant", "possibleSelfProduction",
                                                 "generativeAi"]))
        if ref.fmt == "json" and ref.network is None and r.random() < 0.08:
            ref.extra_person = {"screen": ctx.fresh_username(), "uid": ctx.fresh_uid(),
                                "email": ctx.fresh_email()}
        if ref.incident_type == INC_CP and ref.network is None and r.random() < 0.15:
            ref.incident_type = r.choice(INC_OTHER)
        ref.notes.append(r.choice(EN_NOTES))
    elif ref.fmt == "thai":
        if ref.reported_url is None:
            ref.reported_url = ctx.fresh_url()
        if not ref.contacts and r.random() < 0.35:
            if r.random() < 0.5:
                ref.contacts.append("โทร " + r.choice(phone_text_forms("+66", ctx.fresh_th_nat())))
            else:
                ref.contacts.append("LINE: " + ctx.fresh_line())
        ref.reporter_type = r.choice(TH_REPORTER_TYPES)
        ref.th_notes.insert(0, r.choice(TH_NOTES))
    elif ref.fmt == "platform":
        if ref.uid is None and not ref.omit_uid:
            ref.uid = ctx.fresh_uid()
        if ref.screen is None:
            ref.screen = ctx.fresh_username()
        if not ref.emails and r.random() < 0.7:
            ref.emails.append((ctx.fresh_email(), True))
        if not ref.phones and r.random() < 0.5:
            ref.phones.append({"text": r.choice(phone_text_forms("+66", ctx.fresh_th_nat()))})
        if not ref.ips and r.random() < 0.85:
            ip_event(ref, ctx.fresh_ip(v6=r.random() < 0.15), ref.time - timedelta(minutes=r.randint(1, 3000)))
        if not ref.reason:
            ref.reason.append(r.choice(["csam_upload", "grooming", "csam_link", "account_report"]))
        ref.notes.append(r.choice(EN_NOTES))
    apply_flags(ctx, ref)


# ----------------------------------------------------------------------------
# renderers
# ----------------------------------------------------------------------------
def phone_json(p):
    if "cc" in p:
        return {"number": p["number"], "countryCallingCode": p["cc"], "type": "Mobile"}
    return {"number": p["text"]}


def contact_phone_text(ctx, cc_nat, salt):
    forms = phone_text_forms(*cc_nat)
    return forms[salt % len(forms)]


def info_text(ctx: Ctx, ref: Ref, thai_lang=False):
    parts = list(ref.notes)
    for k, tok in ref.payments + ref.wallets:
        parts.append("reported account listed payment id: " + pay_phrase(k, tok, thai_lang))
    for fl in ref.flags:
        if ref.fmt in ("json", "xml", "lecsv"):
            parts.append(PRIORITY_TEXT[fl][0])
    if ref.partner:
        parts.append(f"forwarded by {PARTNER['name']}, contact {PARTNER['email']} "
                     f"{phone_text_forms(*PARTNER['phone'])[hash_salt(ref) % 3]}")
    return ". ".join(parts)


def hash_salt(ref):
    return int(hashlib.md5(ref.rid.encode()).hexdigest()[:6], 16)


def render_json(ctx: Ctx, ref: Ref) -> dict:
    salt = hash_salt(ref)
    e = ESPS[ref.esp]
    inc = {"incidentType": ref.incident_type, "incidentDateTime": fmt_dt(ref.time, ref.tz)}
    if ref.rep_ann:
        inc["reportAnnotations"] = list(ref.rep_ann)
    d = {"reportId": ref.rid, "incidentSummary": inc}
    d["reporter"] = {
        "espName": ref.esp,
        "reportingPerson": {"firstName": e["person"][0], "lastName": e["person"][1],
                            "email": [{"value": e["legal"][0]}],
                            "phone": [{"number": e["legal"][1][1], "countryCallingCode": e["legal"][1][0]}]},
        "supportContact": {"email": e["support"][0],
                           "phone": contact_phone_text(ctx, e["support"][1], salt)},
    }
    if ref.le is not None:
        ag = LE_AGENCIES[ref.le]
        d["lawEnforcement"] = {"agencyName": ag["agency"], "caseNumber": "EX-%06d" % (salt % 999999),
                               "officerContact": {"firstName": ag["officer"][0], "lastName": ag["officer"][1],
                                                  "email": [{"value": ag["email"]}],
                                                  "phone": [{"number": contact_phone_text(ctx, ag["phone"], salt)}]}}
    person = {}
    pp = {}
    if ref.first:
        pp["firstName"], pp["lastName"] = ref.first, ref.last
    if ref.emails:
        pp["email"] = [{"value": em, "verified": v} for em, v in ref.emails]
    if ref.phones:
        pp["phone"] = [phone_json(p) for p in ref.phones]
    if ref.country:
        pp["address"] = [{"country": ref.country}]
    if pp:
        person["personOrUserReportedPerson"] = pp
    person["espService"] = ref.esp
    if ref.screen is not None:
        person["screenName"] = ref.screen
    if ref.uid is not None:
        person["espUserId"] = ref.uid
    if ref.profile_urls:
        person["profileUrl"] = list(ref.profile_urls)
    if ref.ips:
        person["ipCaptureEvent"] = [{"ipAddress": i["ip"], "eventName": "Login" if k == 0 else "Upload",
                                     "dateTime": fmt_dt(i["dt"], i["tz"]),
                                     **({"possibleProxy": True} if i["proxy"] else {})}
                                    for k, i in enumerate(ref.ips)]
    if ref.line_ids:
        person["additionalInfo"] = "; ".join(f"LINE id: {x}" for x in ref.line_ids)
    persons = [person]
    if ref.extra_person:
        x = ref.extra_person
        persons.append({"personOrUserReportedPerson": {"email": [{"value": x["email"], "verified": False}]},
                        "espService": ref.esp, "screenName": x["screen"], "espUserId": x["uid"]})
    d["personOrUserReported"] = persons
    files = []
    for f in ref.files:
        fd = {"fileName": f["name"], "md5": f["md5"], "fileAnnotations": list(f["ann"]),
              "publiclyAvailable": (salt + len(files)) % 3 == 0}
        if f.get("url"):
            fd["originalUrl"] = f["url"]
        files.append(fd)
    d["uploadedFiles"] = files
    d["additionalInfo"] = info_text(ctx, ref)
    return d


def _sub(parent, tag, text=None, **attrs):
    el = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _xml_phone(parent, cc_nat=None, p=None):
    if p is None:
        p = {"cc": cc_nat[0], "number": cc_nat[1]}
    if "cc" in p:
        _sub(parent, "phone", p["number"], type="Mobile", countryCallingCode=p["cc"])
    else:
        _sub(parent, "phone", p["text"], type="Mobile")


def render_xml(ctx: Ctx, ref: Ref) -> bytes:
    salt = hash_salt(ref)
    root = ET.Element("report", {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                                 "xsi:noNamespaceSchemaLocation": "https://report.cybertip.org/ispws/xsd"})
    _sub(root, "reportId", ref.rid)
    inc = _sub(root, "incidentSummary")
    _sub(inc, "incidentType", ref.incident_type)
    if ref.rep_ann:
        ra = _sub(inc, "reportAnnotations")
        for a in ref.rep_ann:
            _sub(ra, a)
    _sub(inc, "incidentDateTime", fmt_dt(ref.time, ref.tz))
    if not ref.no_platform:
        _sub(inc, "platform", ref.esp)
    if ref.le is not None:
        ag = LE_AGENCIES[ref.le]
        le = _sub(root, "lawEnforcement")
        _sub(le, "agencyName", ag["agency"])
        _sub(le, "caseNumber", "EX-%06d" % (salt % 999999))
        oc = _sub(le, "officerContact")
        _sub(oc, "firstName", ag["officer"][0])
        _sub(oc, "lastName", ag["officer"][1])
        _xml_phone(oc, p={"text": contact_phone_text(ctx, ag["phone"], salt)} if salt % 2 else None,
                   cc_nat=ag["phone"])
        _sub(oc, "email", ag["email"])
    rep = _sub(root, "reporter")
    rp = _sub(rep, "reportingPerson")
    if ref.reporter == "vendor":
        who, email, ph = VENDOR["person"], VENDOR["email"], VENDOR["phone"]
        _sub(rep, "companyTemplate", VENDOR["name"])
    elif ref.reporter == "hotline":
        who, email, ph = HOTLINE["person"], HOTLINE["email"], HOTLINE["phone"]
        _sub(rep, "companyTemplate", HOTLINE["name"])
    else:
        e = ESPS[ref.esp]
        who, email, ph = e["person"], e["legal"][0], e["legal"][1]
    _sub(rp, "firstName", who[0])
    _sub(rp, "lastName", who[1])
    _sub(rp, "email", email, verified="true")
    _xml_phone(rp, cc_nat=ph)
    pr = _sub(root, "personOrUserReported")
    pp = _sub(pr, "personOrUserReportedPerson")
    if ref.first:
        _sub(pp, "firstName", ref.first)
        _sub(pp, "lastName", ref.last)
    for p in ref.phones:
        _xml_phone(pp, p=p)
    for em, v in ref.emails:
        _sub(pp, "email", em, verified="true" if v else "false")
    if ref.country:
        ad = _sub(pp, "address")
        _sub(ad, "country", ref.country)
    if not ref.no_platform:
        _sub(pr, "espService", ref.esp)
    if ref.screen is not None:
        _sub(pr, "screenName", ref.screen)
    if ref.uid is not None:
        _sub(pr, "espUserId", ref.uid)
    for u in ref.profile_urls:
        _sub(pr, "profileUrl", u)
    for k, i in enumerate(ref.ips):
        ev = _sub(pr, "ipCaptureEvent")
        _sub(ev, "ipAddress", i["ip"])
        _sub(ev, "eventName", "Login" if k == 0 else "Upload")
        _sub(ev, "dateTime", fmt_dt(i["dt"], i["tz"]))
        if i["proxy"]:
            _sub(ev, "possibleProxy", "true")
    if ref.line_ids:
        _sub(pr, "additionalInfo", "; ".join(f"LINE id: {x}" for x in ref.line_ids))
    _sub(root, "additionalInfo", info_text(ctx, ref))
    for k, f in enumerate(ref.files):
        fd = _sub(root, "fileDetails")
        _sub(fd, "fileId", f"{ref.rid}-{k + 1}")
        _sub(fd, "fileName", f["name"])
        _sub(fd, "originalFileHash", f["md5"], hashType="MD5")
        if f["ann"]:
            fa = _sub(fd, "fileAnnotations")
            for a in f["ann"]:
                _sub(fa, a)
        if f.get("url"):
            _sub(fd, "originalUrl", f["url"])
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    buf = io.BytesIO()
    tree.write(buf, encoding="utf-8", xml_declaration=True)
    return buf.getvalue() + b"\n"


LE_COLS = ["Report ID", "Incident Date", "Incident Type", "ESP", "Suspect Name", "Suspect Email",
           "Suspect Phone", "Suspect Screen Name", "Suspect User ID", "Suspect IP", "IP Date",
           "Upload File Name", "Upload MD5", "File Annotations", "Report Annotations", "Country",
           "ESP Contact Email", "ESP Contact Phone", "LE Contact", "Additional Info"]


def render_lecsv_row(ctx: Ctx, ref: Ref) -> list:
    salt = hash_salt(ref)
    e = ESPS[ref.esp]
    le = ""
    if ref.le is not None:
        ag = LE_AGENCIES[ref.le]
        le = f"{ag['agency']} / {ag['email']} / {contact_phone_text(ctx, ag['phone'], salt)}"
    phones = [p["text"] if "text" in p else p["cc"] + p["number"] for p in ref.phones]
    return [
        ref.rid, fmt_dt(ref.time, ref.tz), ref.incident_type, ref.esp,
        f"{ref.first} {ref.last}" if ref.first else "",
        "; ".join(em for em, _ in ref.emails), "; ".join(phones),
        ref.screen or "", ref.uid or "",
        "; ".join(i["ip"] for i in ref.ips), "; ".join(fmt_dt(i["dt"], i["tz"]) for i in ref.ips),
        "; ".join(f["name"] for f in ref.files), "; ".join(f["md5"] for f in ref.files),
        "; ".join("|".join(f["ann"]) if f["ann"] else "none" for f in ref.files),
        "; ".join(ref.rep_ann), ref.country or "",
        e["support"][0], contact_phone_text(ctx, e["support"][1], salt), le, info_text(ctx, ref),
    ]


TH_COLS = ["report_id", "received_at", "reported_url", "reporter_type", "notes", "reported_contact",
           "handled_by"]


def render_thai_row(ctx: Ctx, ref: Ref) -> list:
    salt = hash_salt(ref)
    notes = list(ref.th_notes)
    for k, tok in ref.payments + ref.wallets:
        notes.append("ผู้แจ้งระบุข้อมูลการชำระเงิน: " + pay_phrase(k, tok, True))
    hp = phone_text_forms(*HOTLINE["phone"])[salt % 4]
    return [ref.rid, fmt_dt(ref.time, "+07:00"), ref.reported_url, ref.reporter_type,
            " ; ".join(notes), " / ".join(ref.contacts) if ref.contacts else ("ไม่ทราบ" if salt % 2 else ""),
            f"ทีมรับแจ้ง {HOTLINE['email']} โทร {hp}"]


PF_COLS = ["case_id", "opened_utc", "service", "account_id", "handle", "display_name", "account_email",
           "account_phone", "last_login_ip", "last_login_at", "payout_method", "payout_account",
           "wallet_address", "offsite_contact", "signup_country", "report_reason", "moderator_note"]


def render_platform_row(ctx: Ctx, ref: Ref) -> list:
    pay = ref.payments[0] if ref.payments else None
    wal = ref.wallets[0] if ref.wallets else None
    ip = ref.ips[0] if ref.ips else None
    ph = ref.phones[0] if ref.phones else None
    method = {"promptpay": "promptpay", "bank_account": "bank_transfer (Example Bank)",
              "truemoney": "truemoney_wallet"}
    return [
        ref.rid, fmt_dt(ref.time, "Z"), ref.esp, ref.uid or "", ref.screen or "",
        f"{ref.first} {ref.last}" if ref.first else "",
        ref.emails[0][0] if ref.emails else "",
        (ph["text"] if "text" in ph else ph["cc"] + ph["number"]) if ph else "",
        ip["ip"] if ip else "", fmt_dt(ip["dt"], ip["tz"]) if ip else "",
        method[pay[0]] if pay else "", pay[1] if pay else "",
        wal[1] if wal else "",
        ("line:" + ref.line_ids[0]) if ref.line_ids else "",
        ref.country or "", "|".join(ref.reason), "; ".join(ref.notes),
    ]


def csv_bytes(header, rows, bom):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    data = buf.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def splits_thai_char(data: bytes, off: int) -> bool:
    if off >= len(data) or (data[off] & 0xC0) != 0x80:
        return False
    s = off
    while (data[s] & 0xC0) == 0x80:
        s -= 1
    ch = data[s:s + 3].decode("utf-8", errors="replace")[:1]
    return "\u0e00" <= ch <= "\u0e7f"


def write_thai_files(ctx: Ctx, refs, outdir):
    rows = [render_thai_row(ctx, ref) for ref in sorted(refs, key=lambda x: x.time)]
    small_a, small_b, big = [], [], []
    for row in rows:
        for bucket, bom in ((small_a, True), (small_b, False)):
            if len(bucket) < 10 and len(csv_bytes(TH_COLS, bucket + [row], bom)) < 3800:
                bucket.append(row)
                break
        else:
            big.append(row)
    while len(csv_bytes(TH_COLS, big, True)) < 4600 and (small_a or small_b):
        big.insert(0, (small_b or small_a).pop())
    files = {"th_hotline_url_reports_a.csv": (small_a, True),
             "th_hotline_url_reports_b.csv": (small_b, False)}
    for fname, (bucket, bom) in files.items():
        assert len(csv_bytes(TH_COLS, bucket, bom)) < 4096, fname
    # big file: make a Thai character straddle the 4096 (and, if long enough, 8192) byte boundary
    for boundary in (4096, 8192):
        for _ in range(600):
            data = csv_bytes(TH_COLS, big, True)
            if len(data) <= boundary + 64 or splits_thai_char(data, boundary):
                break
            # find the row that contains the boundary and pad the row before it by one byte
            acc = len(csv_bytes(TH_COLS, [], True))
            idx = 0
            for idx, row in enumerate(big):
                ln = len(csv_bytes([], [row], False)) - 2  # minus the empty header line
                if acc + ln > boundary:
                    break
                acc += ln
            tgt = max(idx - 1, 0)
            big[tgt] = list(big[tgt])
            big[tgt][4] = big[tgt][4] + " "
        else:
            raise RuntimeError("could not align Thai text on boundary %d" % boundary)
    files["th_hotline_url_reports_c.csv"] = (big, True)
    out = {}
    for fname, (bucket, bom) in files.items():
        data = csv_bytes(TH_COLS, bucket, bom)
        with open(os.path.join(outdir, fname), "wb") as fh:
            fh.write(data)
        out[fname] = {"rows": len(bucket), "bytes": len(data), "bom": bom,
                      "thai_char_across_4096": splits_thai_char(data, 4096),
                      "thai_char_across_8192": splits_thai_char(data, 8192)}
    assert out["th_hotline_url_reports_c.csv"]["thai_char_across_4096"]
    return out


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------
def generate(out, seed, part):
    ctx = Ctx(seed, part)
    r = ctx.rng
    plans = plan_networks(ctx)
    net_idents = []
    net_info = {}
    for plan in plans:
        idents, members, name = build_network(ctx, plan)
        place_priorities(ctx, plan, members, idents)
        net_idents.append((plan["nid"], idents))
        net_info[plan["nid"]] = (plan, idents, members)
    build_decoys_identity(ctx, net_idents)
    # fillers up to the per-format targets
    for fmt in FORMATS:
        have = sum(1 for x in ctx.refs if x.fmt == fmt)
        for _ in range(max(0, TARGET[fmt] - have)):
            new_plain(ctx, fmt, country="TH" if fmt in ("thai", "platform") else None)
    for ref in ctx.refs:
        finalize(ctx, ref)
    build_decoys_ambient(ctx)

    # ---- write files
    rdir = os.path.join(out, "referrals")
    os.makedirs(rdir, exist_ok=True)
    for fn in os.listdir(rdir):
        p = os.path.join(rdir, fn)
        if os.path.isfile(p) and (fn.endswith(".json") or fn.endswith(".xml") or fn.endswith(".csv")):
            os.remove(p)
    counts = {f: 0 for f in FORMATS}
    for ref in ctx.refs:
        counts[ref.fmt] += 1
        if ref.fmt == "json":
            with open(os.path.join(rdir, f"cybertip_{ref.rid}.json"), "w", encoding="utf-8") as fh:
                json.dump(render_json(ctx, ref), fh, ensure_ascii=False, indent=2)
                fh.write("\n")
        elif ref.fmt == "xml":
            with open(os.path.join(rdir, f"ncmec_report_{ref.rid}.xml"), "wb") as fh:
                fh.write(render_xml(ctx, ref))
    le_rows = [render_lecsv_row(ctx, x) for x in sorted((x for x in ctx.refs if x.fmt == "lecsv"),
                                                         key=lambda x: x.time)]
    with open(os.path.join(rdir, "cybertipline_le_export.csv"), "wb") as fh:
        fh.write(csv_bytes(LE_COLS, le_rows, False))
    pf_rows = [render_platform_row(ctx, x) for x in sorted((x for x in ctx.refs if x.fmt == "platform"),
                                                           key=lambda x: x.time)]
    with open(os.path.join(rdir, "sabai_social_account_reports.csv"), "wb") as fh:
        fh.write(csv_bytes(PF_COLS, pf_rows, False))
    thai_files = write_thai_files(ctx, [x for x in ctx.refs if x.fmt == "thai"], rdir)

    # ---- truth
    truth = {"referrals": {}, "networks": {}, "decoys": []}
    for ref in sorted(ctx.refs, key=lambda x: x.rid):
        truth["referrals"][ref.rid] = ref.network
    for nid, (plan, idents, members) in net_info.items():
        shared = []
        for i in idents:
            rids = []
            for u in i.uses:
                if u[0] not in rids:
                    rids.append(u[0])
            if len(rids) < 2:
                continue
            wa = []
            for u in i.uses:
                if u[1] not in wa:
                    wa.append(u[1])
            entry = {"kind": i.kind, "written_as": wa, "canonical": i.canonical, "members": rids}
            if i.platform:
                entry["platform"] = i.platform
            if i.kind == "ip":
                entry["window_utc"] = [fmt_dt(i.t0, "Z"), fmt_dt(i.t0 + timedelta(minutes=50), "Z")]
            if i.sub == "email_gmail":
                entry["note"] = "gmail.example stands in for a Gmail-style provider: dots and case in the local part are ignored"
            shared.append(entry)
        pri = [PRIORITY_NAME[f] for f in plan["flags"]]
        if plan["thai"]:
            pri.append("thai_nexus")
        truth["networks"][nid] = {"members": [m.rid for m in members], "priority": pri,
                                  "shared_identifiers": shared}
    truth["decoys"] = ctx.decoys
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    self_check(ctx, net_info)
    return counts, truth, thai_files


def self_check(ctx: Ctx, net_info):
    """Each network must be connected through its shared identifiers."""
    for nid, (plan, idents, members) in net_info.items():
        rids = [m.rid for m in members]
        parent = {x: x for x in rids}

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x
        for i in idents:
            us = [u[0] for u in i.uses]
            for a in us[1:]:
                parent[find(a)] = find(us[0])
            if i.kind == "ip":
                offs = [u[2] for u in i.uses]
                assert not offs or max(offs) - min(offs) <= 60
        roots = {find(x) for x in rids}
        assert len(roots) == 1, f"network {nid} not connected"
        assert 3 <= len(rids) <= 10


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--part", choices=["dev", "test"], required=True)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    counts, truth, thai_files = generate(a.out, a.seed, a.part)
    print(json.dumps({"referrals_per_format": counts, "total": sum(counts.values()),
                      "thai_hotline_files": thai_files,
                      "networks": len(truth["networks"]),
                      "network_members": sum(len(n["members"]) for n in truth["networks"].values()),
                      "decoys": len(truth["decoys"])}, indent=1))


if __name__ == "__main__":
    main()
