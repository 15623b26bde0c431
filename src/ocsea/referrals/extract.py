"""Identifiers in free text (``additionalInformations``, notes, incident descriptions).

Patterns find candidates; the normalisers in ``entities`` decide. Bank accounts, PromptPay,
TrueMoney and LINE ids are only taken next to a word that names them: bare numbers and words are
too common to trust. A number is a phone or a bank account by its own grouping first (``081-234-
5678`` is a phone, ``460-0-49154-6`` an account) and by the word before it second.

An identifier in the same clause as words that name a reporting party ("forwarded by … hotline,
contact …", "ทีมรับแจ้ง") is that party's contact, not the suspect's: it is kept with the role
``party_text``: it joins no referral (docs/referrals.md, Links).
"""

from __future__ import annotations

import re

import phonenumbers

from ocsea.referrals.entities import (
    THAI_DIGITS,
    Mention,
    bank_code,
    norm_bank_account,
    norm_crypto,
    norm_email,
    norm_hash,
    norm_ip,
    norm_line_id,
    norm_phone,
    norm_promptpay,
    norm_url,
    promptpay_id_checks,
    url_mentions,
)

MAX_TEXT = 100_000  # characters of one free-text field that are searched

# '@' written plainly takes no spaces around it ("LINE ID @name.x" is no address); the defanged
# "(at)" and "[at]" may have them.
# The domain part is ASCII: Thai text written straight after an address ("a@b.example หรือ …")
# is not part of it.
_EMAIL = re.compile(
    r"[\w.%+\-]{1,64}(?:@|\s?(?:\(at\)|\[at\])\s?)[A-Za-z0-9\-]+(?:(?:\.|\[\.\])[A-Za-z0-9\-]+)+"
)
_URL = re.compile(
    r"\b(?:https?|hxxps?)(?::|\[:\])//[^\s<>\"'()\u0e00-\u0e7f]+"
    r"|\bwww(?:\.|\[\.\])[^\s<>\"'()\u0e00-\u0e7f]+",
    re.I,
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}(?:\.|\[\.\])){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}(?:::?[0-9a-fA-F]{1,4})*")
_HEX = re.compile(r"\b[0-9a-fA-F]{32}\b|\b[0-9a-fA-F]{40}\b|\b[0-9a-fA-F]{64}\b")
_CRYPTO = re.compile(
    r"\b0[xX][0-9a-fA-F]{40}\b|\bT[1-9A-HJ-NP-Za-km-z]{33}\b|\b(?:bc1|BC1)[0-9A-Za-z]{8,87}\b"
    r"|\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b"
)
_PROMPTPAY = re.compile(
    r"(?:promptpay|prompt\s*pay|พร้อมเพย์|พร้อมเพ)\s*(?:no\.?|number|id|:|เบอร์|เลข)?\s*[:#]?\s*"
    r"(\+?[\d][\d\s\-]{8,18}\d)",
    re.I,
)
_BANK = re.compile(
    r"(?:(bank\s*account|account\s*(?:no\.?|number)|acc(?:ount)?\.?\s*no\.?|เลขบัญชี|ธนาคาร"
    r"|kbank|scb|ktb|bbl|krungsri|kasikorn|กสิกร|ไทยพาณิชย์|กรุงไทย|กรุงเทพ|กรุงศรี|ออมสิน)|(บัญชี))"
    r"[^\d\n]{0,48}(\d[\d\s\-]{8,16}\d)",
    re.I,
)
# How Thai banks print account numbers (xxx-x-xxxxx-x) and how people write phones (0xx-xxx-xxxx).
_BANK_GROUPS = re.compile(r"\d{3}[\s\-]\d[\s\-]\d{5}[\s\-]\d")
_PHONE_GROUPS = re.compile(r"0\d{1,2}[\s\-]\d{3}[\s\-]\d{4}")
_TRUEMONEY = re.compile(
    r"(?:true\s*money(?:\s*wallet)?|ทรูมันนี่(?:\s*วอลเล็ท)?|ทรูวอลเล็ท)\s*(?:no\.?|id|:|เบอร์|เลข)?\s*[:#]?"
    r"\s*(\+?\d[\d\s\-]{8,16}\d)",
    re.I,
)
# A LINE id only where the text says it is one: "LINE id x", "LINE: x", "LINE @x", "ไลน์ x". A bare
# "LINE" followed by a word is English ("via LINE and …", "in line with …").
_LINE = re.compile(
    r"(?<![A-Za-z])(?:(?:line|ไลน์)\s*(?:id|ไอดี)\s*[:：=]?\s*|line\s*[:：=]\s*|line\s+(?=@)"
    r"|(?:ไอดีไลน์|ไลน์ไอดี|ไลน์)\s*[:：=]?\s*)"
    r"(@?[A-Za-z0-9][A-Za-z0-9._\-]{2,19})(?![A-Za-z0-9._\-@])",
    re.I,
)
_NOT_LINE_IDS = frozenset({"and", "with", "the", "for", "from", "chat", "group", "app", "only",
                           "account", "user", "number", "unknown", "none", "ไม่ทราบ"})  # fmt: skip
# Words that name a reporting party: an identifier in the same clause is its contact.
_PARTY = re.compile(
    r"forwarded by|on behalf of|hotline|helpline|help desk|helpdesk|intake|law enforcement"
    r"|police|officer|detective|task force|icac|trust\s*(?:&|and)\s*safety|legal (?:team|process|"
    r"requests?)|support team|ทีมรับแจ้ง|สายด่วน|ศูนย์รับแจ้ง|ตำรวจ|เจ้าหน้าที่|มูลนิธิ",
    re.I,
)
_BARE_INTL = re.compile(r"(?<![\d+])(?:66|1)\d{9,10}(?!\d)")
_PHONE_CUE = re.compile(
    r"โทร|เบอร์|มือถือ|ติดต่อ|phone|tel\b|call|mobile|whats\s?app|viber|sms|wallet|วอลเล็ท", re.I
)
# A mention named with a reporting party in free text: it joins no one, but unlike a party's own
# block it does not make the value a party's everywhere (linking.py).
PARTY_TEXT_ROLE = "party_text"
_CLAUSE_END = re.compile(r"[.;\n|]\s|[\n|]")
_ZERO_ZERO = re.compile(r"(?<![\d+])00(?=\s?[1-9])")


def _party_spans(text: str) -> list[tuple[int, int]]:
    """From each word that names a reporting party to the end of its clause."""
    out = []
    for m in _PARTY.finditer(text):
        end = _CLAUSE_END.search(text, m.end())
        out.append((m.start(), end.start() if end else len(text)))
    return out


def extract(text: str, field: str, role: str = "text", region: str = "TH") -> list[Mention]:
    """Every identifier found in ``text``; duplicates (same kind and value) once."""
    text = (text or "")[:MAX_TEXT].translate(THAI_DIGITS)
    found: dict[tuple[str, str], Mention] = {}
    party = _party_spans(text) if role != "reporting_party" else []

    def add(kind: str, value: str | None, display: str, at: int = -1, **attrs) -> None:
        if value and (kind, value) not in found:
            who = role
            if at >= 0 and any(a <= at < b for a, b in party):
                # This mention only: the same value as a suspect's field elsewhere still joins.
                who, attrs = PARTY_TEXT_ROLE, {**attrs, "why": "named with a reporting party"}
            found[(kind, value)] = Mention(kind, value, display.strip(), who, field, None, attrs)

    for m in _EMAIL.finditer(text):
        add("email", norm_email(m.group()), m.group(), m.start())
    email_spans = [m.span() for m in _EMAIL.finditer(text)]
    url_spans = []
    for m in _URL.finditer(text):
        got = norm_url(m.group().rstrip(".,;:!?"))
        if got:
            for u in url_mentions(got, m.group(), role, field):
                add(u.kind, u.value, u.display, m.start(), **u.attrs)
            url_spans.append(m.span())
    for rx in (_IPV4, _IPV6):
        for m in rx.finditer(text):
            add("ip", norm_ip(m.group()), m.group(), m.start())
    for m in _CRYPTO.finditer(text):
        got = norm_crypto(m.group())
        if got:
            add("crypto", f"{got[0]}|{got[1]}", m.group(), m.start(), chain=got[0])
    for m in _HEX.finditer(text):
        got = norm_hash(m.group())
        if got:
            add(got[0], got[1], m.group(), m.start())
    taken = email_spans + url_spans
    for m in _LINE.finditer(text):
        if (
            not any(a <= m.start(1) < b for a, b in taken)
            and m.group(1).lower() not in _NOT_LINE_IDS
        ):
            add("line_id", norm_line_id(m.group(1)), m.group(1), m.start(1))
    payment_spans: list[tuple[int, int]] = []
    for m in _PROMPTPAY.finditer(text):
        value = norm_promptpay(m.group(1))
        if value:  # a mobile-number proxy is also found as a phone
            extra = {} if promptpay_id_checks(value) else {"checksum": "fails"}
            add("promptpay", value, m.group(1), m.start(1), **extra)
    for m in _TRUEMONEY.finditer(text):
        phone = norm_phone(m.group(1), region)
        if phone and phone.valid:  # a TrueMoney wallet id is its owner's phone number
            add(
                "phone", phone.e164, m.group(1), m.start(1), region=phone.region, wallet="truemoney"
            )
    for m in _BANK.finditer(text):
        digits = m.group(3)
        if _is_phone_not_account(digits, explicit_bank=m.group(1) is not None, region=region):
            continue
        value = norm_bank_account(digits)
        if value:
            add("bank_account", value, digits, m.start(3), bank=bank_code(m.group()))
            payment_spans.append(m.span(3))
    # '00' before a country code is how most of the world dials out (Thailand's own prefix is
    # 001): read '0066 …' as '+66 …'. Same length, so offsets stay.
    dialled = _ZERO_ZERO.sub(" +", text)
    for match in phonenumbers.PhoneNumberMatcher(
        dialled, region, leniency=phonenumbers.Leniency.VALID
    ):
        span = (match.start, match.end)
        if any(a <= span[0] < b for a, b in taken + payment_spans):
            continue
        num = match.number
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        start = match.start - (text[match.start - 1 : match.start + 1] == "00")
        raw = text[start : match.end].strip()
        add("phone", e164, raw, match.start, region=phonenumbers.region_code_for_number(num))
    # '66812345678': a country code without '+', which the matcher does not take; only after a
    # word that says a phone follows (an 11-digit number alone may be anything: an order, a QQ id).
    for m in _BARE_INTL.finditer(text):
        if any(a <= m.start() < b for a, b in taken + payment_spans):
            continue
        if not _PHONE_CUE.search(text[max(0, m.start() - 24) : m.start()]):
            continue
        phone = norm_phone(m.group(), region)
        if phone and phone.valid:
            add("phone", phone.e164, m.group(), m.start(), region=phone.region)
    return list(found.values())


def _is_phone_not_account(digits: str, explicit_bank: bool, region: str) -> bool:
    """A number after 'account' is a phone when it is grouped as a phone, or when nothing but
    the word 'บัญชี' (which also means a social account) calls it a bank account and it is a
    valid mobile number."""
    text = digits.strip()
    if _BANK_GROUPS.fullmatch(text):
        return False
    phone = norm_phone(text, region)
    if phone is None or not phone.valid:
        return False
    return bool(_PHONE_GROUPS.fullmatch(text)) or not explicit_bank
