"""Identifiers in free text (``additionalInformations``, notes, incident descriptions).

Patterns find candidates; the normalisers in ``entities`` decide. Bank accounts and PromptPay ids
are only taken next to a word that names them: bare 10-digit numbers are too common to trust.
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
    norm_promptpay,
    norm_url,
)

MAX_TEXT = 100_000  # characters of one free-text field that are searched

_EMAIL = re.compile(r"[\w.%+\-]{1,64}\s?(?:@|\(at\)|\[at\])\s?[\w\-]+(?:(?:\.|\[\.\])[\w\-]+)+")
_URL = re.compile(
    r"\b(?:https?|hxxps?)(?::|\[:\])//[^\s<>\"'()]+|\bwww(?:\.|\[\.\])[^\s<>\"'()]+", re.I
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
    r"(?:bank\s*account|account\s*(?:no\.?|number)|acc(?:ount)?\.?\s*no\.?|เลขบัญชี|บัญชี|ธนาคาร"
    r"|kbank|scb|ktb|bbl|krungsri|kasikorn|กสิกร|ไทยพาณิชย์|กรุงไทย|กรุงเทพ|กรุงศรี|ออมสิน)"
    r"[^\d\n]{0,30}(\d[\d\s\-]{8,16}\d)",
    re.I,
)


def extract(text: str, field: str, role: str = "text", region: str = "TH") -> list[Mention]:
    """Every identifier found in ``text``; duplicates (same kind and value) once."""
    text = (text or "")[:MAX_TEXT].translate(THAI_DIGITS)
    found: dict[tuple[str, str], Mention] = {}

    def add(kind: str, value: str | None, display: str, **attrs) -> None:
        if value and (kind, value) not in found:
            found[(kind, value)] = Mention(kind, value, display.strip(), role, field, None, attrs)

    for m in _EMAIL.finditer(text):
        add("email", norm_email(m.group()), m.group())
    email_spans = [m.span() for m in _EMAIL.finditer(text)]
    for m in _URL.finditer(text):
        got = norm_url(m.group().rstrip(".,;:!?"))
        if got:
            add("url", got[0], m.group())
            add("domain", got[1], got[1])
    for rx in (_IPV4, _IPV6):
        for m in rx.finditer(text):
            add("ip", norm_ip(m.group()), m.group())
    for m in _CRYPTO.finditer(text):
        got = norm_crypto(m.group())
        if got:
            add("crypto", f"{got[0]}|{got[1]}", m.group(), chain=got[0])
    for m in _HEX.finditer(text):
        got = norm_hash(m.group())
        if got:
            add(got[0], got[1], m.group())
    payment_spans: list[tuple[int, int]] = []
    for m in _PROMPTPAY.finditer(text):
        value = norm_promptpay(m.group(1))
        if value:
            add("promptpay", value, m.group(1))  # a mobile-number proxy is also found as a phone
    for m in _BANK.finditer(text):
        value = norm_bank_account(m.group(1))
        if value:
            add("bank_account", value, m.group(1), bank=bank_code(m.group()))
            payment_spans.append(m.span(1))
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        span = (match.start, match.end)
        if any(a <= span[0] < b for a, b in email_spans + payment_spans):
            continue
        num = match.number
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        add("phone", e164, match.raw_string, region=phonenumbers.region_code_for_number(num))
    return list(found.values())
