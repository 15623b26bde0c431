"""Entity normalisers: one canonical value per real-world identifier, so that two referrals naming
the same phone, address or wallet in different spellings meet in the graph.

Every function is pure and returns ``None`` for input that is not an identifier of its kind
(a bad checksum is not an identifier). Values are ``kind``-scoped strings; ``display`` keeps what
the document said.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from stdnum import bitcoin, imei
from stdnum.th import pin as thai_pin

# How sure a shared value makes us that two actors are linked (docs/referrals.md); every other
# kind (screen names, URLs, domains, file hashes, IPs in their time window) is tentative.
CONFIRMED_KINDS = frozenset(
    {"email", "phone", "platform_id", "device", "promptpay", "bank_account", "crypto", "p2p_guid",
     "line_id"}
)  # fmt: skip

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Mention:
    """One identifier as one document states it, with where it was found."""

    kind: str
    value: str
    display: str
    role: str = ""  # reported | recipient | victim | file | hosting | text | ...
    field: str = ""  # where in the document, e.g. reportedPersons[0].emails[1]
    at: datetime | None = None  # for IPs: when it was used
    attrs: dict = dc_field(default_factory=dict, compare=False, hash=False)


def _clean(raw: object, limit: int = 500) -> str:
    text = unicodedata.normalize("NFKC", str(raw)).translate(THAI_DIGITS)
    return _WS.sub(" ", text).strip()[:limit]


# ---- e-mail ---------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"^[A-Za-z0-9._%+\-!#$&'*/=?^`{|}~]{1,64}@[A-Za-z0-9.\-]{1,253}\.[A-Za-z]{2,63}$"
)
DOT_BLIND_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def norm_email(raw: object) -> str | None:
    """Lower-cased; '+tag' dropped; dots dropped where the provider ignores them (Gmail)."""
    text = _clean(raw).strip("<>\"' ").replace("(at)", "@").replace("[at]", "@")
    text = text.replace("[.]", ".").replace("(dot)", ".").replace(" ", "")
    if "@" not in text:
        return None
    local, _, domain = text.rpartition("@")
    try:
        domain = domain.lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return None
    local = local.lower().split("+", 1)[0]
    if domain in DOT_BLIND_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    value = f"{local}@{domain}"
    return value if local and _EMAIL.match(value) else None


# ---- phone ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phone:
    e164: str
    region: str | None
    valid: bool  # a number the numbering plan assigns (phonenumbers' check), not just possible


def norm_phone(raw: object, region: str = "TH", country_code: str | None = None) -> Phone | None:
    """E.164. National numbers are read in ``region`` (Thailand by default)."""
    text = _clean(raw, 60)
    if country_code and not text.startswith(("+", "00")):
        text = f"+{str(country_code).lstrip('+')} {text}"
    if text.startswith("00"):
        text = "+" + text[2:]
    if sum(c.isdigit() for c in text) < 6:
        return None
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num) and not text.startswith("+"):
        # '66812345678', '12025550187': a country code written without its '+'. Taken only when
        # that reading is a number the plan assigns and the national reading is not.
        try:
            intl = phonenumbers.parse("+" + text, None)
        except phonenumbers.NumberParseException:
            intl = None
        if intl is not None and phonenumbers.is_valid_number(intl):
            num = intl
    if not phonenumbers.is_possible_number(num):
        return None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164, phonenumbers.region_code_for_number(num), phonenumbers.is_valid_number(num))


# ---- IP addresses ---------------------------------------------------------------------------
# Addresses that many unrelated people share; they never link anyone. (Documentation ranges are
# deliberately not here: they are what synthetic data uses.)
SHARED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
              "169.254.0.0/16", "0.0.0.0/8", "224.0.0.0/4", "255.255.255.255/32", "::1/128",
              "::/128", "fc00::/7", "fe80::/10", "ff00::/8")
)  # fmt: skip


def norm_ip(raw: object) -> str | None:
    """Canonical text form: IPv4 dotted (leading zeros dropped), IPv6 compressed, IPv4-mapped
    IPv6 as IPv4, ports and brackets removed."""
    text = _clean(raw, 80).replace("[.]", ".").strip()
    if not text:
        return None
    if text.startswith("["):  # [v6]:port
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]  # zone id
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", text):
        parts = [int(p) for p in text.split(".")]
        if any(p > 255 for p in parts):
            return None
        text = ".".join(str(p) for p in parts)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.compressed


def ip_is_shared(value: str) -> bool:
    """For a value ``norm_ip`` made. Decided from the text for IPv4 (parsing every address took
    8.7 s of a 200,000-referral relink); ``_ip_is_shared_parsed`` is the reference, and a test
    holds the two equal."""
    if ":" in value:
        return _ip_is_shared_parsed(value)
    parts = value.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return _ip_is_shared_parsed(value)
    a, b = int(parts[0]), int(parts[1])
    return (a in (0, 10, 127) or 224 <= a <= 239 or value == "255.255.255.255" or (a == 100 and 64 <= b <= 127)
            or (a == 169 and b == 254) or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168))  # fmt: skip


def _ip_is_shared_parsed(value: str) -> bool:
    ip = ipaddress.ip_address(value)
    return any(ip.version == n.version and ip in n for n in SHARED_NETWORKS)


# ---- URLs and domains -----------------------------------------------------------------------
_DEFANG = (("hxxps", "https"), ("hxxp", "http"), ("[.]", "."), ("(.)", "."), ("[:]", ":"))


# Query parameters that say how a link was shared, not what it points at.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|ref|ref_src|fbclid|gclid|igshid|igsh|si|s|share|shared|from|feature|_ga|mc_\w+)$",
    re.I,
)


def norm_url(raw: object) -> tuple[str, str] | None:
    """(URL, host). The URL is what it points at: host (lower case, without ``www.``), port when
    not the default, path without a trailing ``/``, and the query without tracking parameters;
    scheme and fragment dropped (``http``/``https`` name the same account). Defanged forms
    (hxxp, [.]) are re-armed. The path keeps its case: platforms' ids are case-sensitive."""
    text = _clean(raw, 2000)
    for a, b in _DEFANG:
        text = text.replace(a, b)
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", text):
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not host or " " in host:
        return None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if "." not in host and ":" not in host and host != "localhost":
        return None
    scheme = parts.scheme.lower()
    host = host.removeprefix("www.")
    netloc = host if ":" not in host else f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    query = "&".join(
        p for p in parts.query.split("&") if p and not TRACKING_PARAMS.match(p.split("=", 1)[0])
    )
    url = urlunsplit(("", netloc, parts.path.rstrip("/"), query, "")).removeprefix("//")
    return url, host


# First path segments after which the next one names an account on most platforms.
_ACCOUNT_SEGMENTS = frozenset(
    {"u", "user", "users", "member", "members", "profile", "profiles", "people", "channel", "c",
     "author", "uploader", "account", "accounts", "id"}
)  # fmt: skip


def account_url(url: str) -> str | None:
    """The account a resource URL sits under (``host/u/name/123`` → ``host/u/name``; ``host/@name/
    123`` → ``host/@name``), so that two files of one uploader meet; None when the URL is itself
    an account's or names none."""
    host, _, path = url.partition("/")
    segs = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(segs) >= 3 and segs[0].lower() in _ACCOUNT_SEGMENTS:
        return f"{host}/{segs[0]}/{segs[1]}"
    if len(segs) >= 2 and segs[0].startswith("@") and len(segs[0]) > 1:
        return f"{host}/{segs[0]}"
    return None


def url_mentions(got: tuple[str, str], raw: str, role: str, path: str) -> list[Mention]:
    """A URL's mentions: the URL, the account it sits under (when its path names one), and the
    host (shown, never joining)."""
    out = [Mention("url", got[0], raw, role, path)]
    acct = account_url(got[0])
    if acct:
        out.append(Mention("url", acct, raw, role, path, None, {"account_of": got[0]}))
    out.append(Mention("domain", got[1], got[1], role, path))
    return out


def url_names_a_resource(url: str) -> bool:
    """A URL with a path or a query names an account, a post or a file; a bare host names
    everyone on it and joins no one."""
    return "/" in url or "?" in url


# ---- file hashes ----------------------------------------------------------------------------
_HEX_KIND = {32: "md5", 40: "sha1", 64: "sha256"}


def norm_hash(raw: object, declared: str | None = None) -> tuple[str, str] | None:
    """(kind, lower-case hex). Base32 SHA-1 (``urn:sha1:…``, as Gnutella shares it) becomes hex."""
    text = _clean(raw, 200).strip()
    low = text.lower()
    if low.startswith("urn:sha1:") or (len(text) == 32 and (declared or "").lower() == "sha1"):
        b32 = text.split(":")[-1].upper()
        if re.fullmatch(r"[A-Z2-7]{32}", b32):
            return "sha1", base64.b32decode(b32).hex()
        return None
    if re.fullmatch(r"[0-9a-f]+", low) and len(low) in _HEX_KIND:
        kind = _HEX_KIND[len(low)]
        if declared and declared.lower().replace("-", "") not in (kind, "", "hash"):
            return None
        return kind, low
    return None


# ---- payments -------------------------------------------------------------------------------
def _tron_ok(addr: str) -> bool:
    try:
        raw = bitcoin.b58decode(addr)
    except (KeyError, ValueError):
        return False
    if len(raw) != 25 or raw[0] != 0x41:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def _keccak_hex(data: bytes) -> str:
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).hexdigest()


def _eth_ok(addr: str) -> bool:
    body = addr[2:]
    if body.islower() or body.isupper() or body.isdigit():
        return True  # no checksum written: nothing to verify
    digest = _keccak_hex(body.lower().encode())
    return all(
        (c.isupper() if int(d, 16) >= 8 else c.islower()) if c.isalpha() else True
        for c, d in zip(body, digest[:40], strict=True)
    )


def norm_crypto(raw: object) -> tuple[str, str] | None:
    """(chain, address) for Bitcoin (base58check or bech32/bech32m), Ethereum-style (EIP-55
    checksum when mixed case) and TRON (base58check, where USDT-TRC20 lives), checksum-verified."""
    text = _clean(raw, 120).strip()
    if re.fullmatch(r"0[xX][0-9a-fA-F]{40}", text):
        return ("eth", "0x" + text[2:].lower()) if _eth_ok(text) else None
    if re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", text):
        return ("trx", text) if _tron_ok(text) else None
    if re.fullmatch(r"(bc1|BC1)[0-9A-Za-z]{8,87}|[13][1-9A-HJ-NP-Za-km-z]{25,34}", text):
        try:
            bitcoin.validate(text)
        except Exception:  # stdnum raises its ValidationError subclasses and ValueError
            return None
        return "btc", text.lower() if text.lower().startswith("bc1") else text
    return None


def norm_promptpay(raw: object) -> str | None:
    """A PromptPay proxy: Thai mobile number (as E.164), national or tax id (13 digits) or
    e-wallet id (15 digits). A 13-digit id whose checksum fails is still taken (the caller flags
    it, ``promptpay_id_checks``): the id a suspect wrote, mistyped or invented, still joins the
    documents that repeat it, and the PromptPay label is what makes the digits an id."""
    digits = re.sub(r"[\s\-.()]", "", _clean(raw, 40))
    if digits.startswith("0066"):
        digits = "+" + digits[2:]
    elif digits.startswith("66") and len(digits) == 11:
        digits = "+" + digits
    if digits.startswith("+66") or (len(digits) == 10 and digits.startswith("0")):
        phone = norm_phone(digits, "TH")
        return phone.e164 if phone and phone.region == "TH" else None
    if len(digits) == 13 and digits.isdigit():
        return digits
    if len(digits) == 15 and digits.isdigit():
        return digits
    return None


def promptpay_id_checks(value: str) -> bool:
    """False for a 13-digit id that fails the Thai national/tax-id checksum."""
    return len(value) != 13 or thai_pin.is_valid(value)


# Thai banks by the names people write; the account number alone is the value that links.
THAI_BANKS: dict[str, tuple[str, ...]] = {
    "kbank": ("kbank", "kasikorn", "กสิกร"),
    "scb": ("scb", "siam commercial", "ไทยพาณิชย์"),
    "bbl": ("bbl", "bangkok bank", "กรุงเทพ"),
    "ktb": ("ktb", "krungthai", "krung thai", "กรุงไทย"),
    "bay": ("bay", "krungsri", "กรุงศรี"),
    "ttb": ("ttb", "tmbthanachart", "ทหารไทย", "ทีทีบี"),
    "gsb": ("gsb", "government savings", "ออมสิน"),
    "baac": ("baac", "ธ.ก.ส", "ธกส"),
}


def bank_code(text: str) -> str | None:
    low = _clean(text, 200).lower()
    for code, names in THAI_BANKS.items():
        if any(n in low for n in names):
            return code
    return None


def norm_bank_account(raw: object) -> str | None:
    """Digits only; Thai accounts have 10 digits (12 at GSB/BAAC). Banks publish no checksum, so
    numbers are taken from labelled fields or next to a bank word, never from bare digits."""
    digits = re.sub(r"[\s\-.]", "", _clean(raw, 40))
    return digits if digits.isdigit() and len(digits) in (10, 12) else None


# ---- accounts and devices -------------------------------------------------------------------
def norm_platform(raw: object) -> str:
    text = _clean(raw, 100).lower()
    text = re.sub(r"^(www\.)|(\.com|\.net|\.org)$", "", text)
    return re.sub(r"[^a-z0-9]+", "", text) or "unknown"


def norm_platform_id(platform: object, raw: object) -> str | None:
    text = _clean(raw, 300)
    return f"{norm_platform(platform)}|{text}" if text else None


def norm_screen_name(platform: object, raw: object) -> str | None:
    text = _clean(raw, 300).lstrip("@").casefold()
    return f"{norm_platform(platform)}|{text}" if text else None


def norm_device(id_type: object, raw: object) -> str | None:
    kind = re.sub(r"[^a-z0-9]+", "", _clean(id_type, 40).lower()) or "device"
    text = re.sub(r"[\s\-:]", "", _clean(raw, 200)).upper()
    if not text:
        return None
    if kind == "imei" and not imei.is_valid(text):
        return None
    return f"{kind}|{text}"


_LINE_ID = re.compile(r"[a-z0-9._\-]{3,20}")


def norm_line_id(raw: object) -> str | None:
    """A LINE id: case-folded, a leading ``@`` (official accounts) dropped; 3–20 letters, digits,
    ``.``, ``-`` or ``_`` (LINE's own rule is 4–20; 3 keeps short ids written in reports)."""
    text = _clean(raw, 60).strip().lstrip("@").casefold()
    return text if _LINE_ID.fullmatch(text) else None


def norm_guid(raw: object) -> str | None:
    """Hex GUIDs without braces or dashes; other client ids lower-cased as they are."""
    text = _clean(raw, 200).lower()
    compact = re.sub(r"[\s\-{}]", "", text)
    if re.fullmatch(r"[0-9a-f]{16,64}", compact):
        return compact
    return text or None
