"""Settings: ``ocsea.toml`` (working folder, or the file named by ``OCSEA_CONFIG``), then the
environment. Secrets (the pseudonymisation key) come from the environment or a key file, never from
the repository."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TRIAGE_WEIGHTS: dict[str, float] = {
    # DESIGN §5. Unknown material that the detectors flag ranks highest: it may be new abuse.
    "unknown_flagged": 4.0,
    "known_material": 2.0,
    "near_duplicate": 1.5,
    "text_score": 2.0,  # times P(csa)
    "infant": 2.0,  # stated or parsed age under 5
    "prepubescent": 1.0,  # under 13
    "live": 1.5,  # live-streaming words
    "payment": 1.0,  # selling, paying, trading words
    "producer": 1.5,  # the sharer spreads several unknown flagged files
    "volume": 0.5,  # times log(1 + number of sharers)
    "recency": 1.0,  # times exp(-days since last seen / 30)
    "media_risk": 2.0,  # times the media risk of a file seen in a scan (review first, no verdict)
}

DEFAULT_P2P_COLUMNS: dict[str, list[str]] = {
    "timestamp": ["timestamp", "time", "date", "datetime", "seen_at", "ts"],
    "network": ["network", "net", "protocol"],
    "ip": ["ip", "ip_address", "ipaddress", "src_ip", "address"],
    "port": ["port", "src_port"],
    "guid": ["guid", "peer_id", "peerid", "client_guid", "user_hash", "userhash"],
    "client": ["client", "user_agent", "agent", "software"],
    "filename": ["filename", "file_name", "name", "file"],
    "size": ["size", "file_size", "filesize", "bytes"],
    "sha1": ["sha1", "sha-1", "sha1_hash"],
    "md5": ["md5", "md5_hash"],
    "ed2k": ["ed2k", "ed2k_hash", "emule_hash"],
    "infohash": ["infohash", "info_hash", "btih"],
}

DEFAULT_QUERY_COLUMNS: dict[str, list[str]] = {
    "timestamp": ["timestamp", "time", "date", "datetime", "ts"],
    "query": ["query", "q", "search", "search_query", "term"],
    "session": ["session", "session_id", "user", "user_id", "uid", "cookie"],
    "region": ["region", "province", "country", "geo"],
}


@dataclass
class ReferralSettings:
    """[referrals], [cases] and [requests] in ocsea.toml (docs/referrals.md)."""

    region: str = "TH"  # how national phone numbers are read
    # Two actors share an IP only when both used it within this window: mobile carriers' CGNAT
    # gives one address to many subscribers at once, so the window is short (docs/referrals.md).
    ip_window_hours: float = 1.0
    max_actors: int = 10_000  # safety bound; specificity (ocsea.referrals.linking) decides below it
    party_contacts: list[str] = field(default_factory=list)  # reporting parties' e-mails, phones
    min_strength: str = "tentative"
    thai_ip_ranges: list[str] = field(default_factory=list)  # CIDRs or APNIC delegated lines
    case_weights: dict[str, float] = field(default_factory=dict)
    due_days: dict[str, int] = field(default_factory=dict)
    expiry_days: dict[str, int] = field(default_factory=dict)
    csv_columns: dict[str, list[str]] | None = None


@dataclass
class Settings:
    database_url: str | None = None
    triage_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TRIAGE_WEIGHTS))
    p2p_columns: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_P2P_COLUMNS.items()}
    )
    query_columns: dict[str, list[str]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_QUERY_COLUMNS.items()}
    )
    pseudonym_key: bytes | None = field(default=None, repr=False)  # never printed
    # HMAC key of the audit chain ([audit] key_file, OCSEA_AUDIT_KEY); never printed
    audit_key: bytes | None = field(default=None, repr=False)
    text_threshold: float = 0.5
    # CSV/TSV query logs through DuckDB (docs/architecture.md, Ingest); false: row by row.
    ingest_columnar: bool = True
    # Input per columnar write transaction, in MB (None: ocsea.ingest.columnar.FLUSH_BYTES). Lower
    # it for a SQLite store shared with analysts: an epoch holds the write lock while it is written.
    ingest_epoch_mb: int | None = None
    referrals: ReferralSettings = field(default_factory=lambda: ReferralSettings())
    # [web.media]: safe viewing of evidence images (ocsea.web.media.MediaSettings); None: off
    media: Any = None
    # [service]: per API key, shared by every instance and worker on one database
    service_rate_per_second: float = 2000.0
    service_burst: int = 4000
    service_key_ttl_s: float = 10.0  # a revoked key is refused everywhere within this
    # [media.risk]: the weights of the media risk rule (ocsea.media.risk.DEFAULT_WEIGHTS)
    media_risk_weights: dict[str, float] = field(default_factory=dict)
    source: str = "defaults"


class ConfigError(ValueError):
    pass


def _merge_columns(base: dict[str, list[str]], over: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(over, dict):
        raise ConfigError(f"{where} must be a table of field = [column names]")
    out = {k: list(v) for k, v in base.items()}
    for k, v in over.items():
        if k not in out:
            raise ConfigError(f"{where}: unknown field {k!r} (known: {', '.join(out)})")
        names = [v] if isinstance(v, str) else v
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            raise ConfigError(f"{where}.{k} must be a column name or a list of them")
        out[k] = [x.lower() for x in names] + out[k]
    return out


def load_settings(path: Path | str | None = None) -> Settings:
    s = Settings()
    cfg_path = Path(path) if path else Path(os.environ.get("OCSEA_CONFIG") or "ocsea.toml")
    if cfg_path.is_file():
        try:
            doc = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg_path}: {exc}") from None
        s.source = str(cfg_path)
        s.database_url = doc.get("database", {}).get("url")
        weights = doc.get("triage", {}).get("weights", {})
        for k, v in weights.items():
            if k not in DEFAULT_TRIAGE_WEIGHTS:
                raise ConfigError(f"{cfg_path}: triage.weights: unknown weight {k!r}")
            if not isinstance(v, int | float) or v < 0:
                raise ConfigError(f"{cfg_path}: triage.weights.{k} must be a number >= 0")
            s.triage_weights[k] = float(v)
        ingest = doc.get("ingest", {})
        columnar = ingest.get("columnar", True)
        if not isinstance(columnar, bool):
            raise ConfigError(f"{cfg_path}: ingest.columnar must be true or false")
        s.ingest_columnar = columnar
        if "epoch_mb" in ingest:
            mb = ingest["epoch_mb"]
            if isinstance(mb, bool) or not isinstance(mb, int) or not 16 <= mb <= 4096:
                raise ConfigError(f"{cfg_path}: ingest.epoch_mb must be a whole number 16-4096")
            s.ingest_epoch_mb = mb
        if "p2p" in ingest:
            s.p2p_columns = _merge_columns(
                s.p2p_columns, ingest["p2p"].get("columns", {}), "ingest.p2p.columns"
            )
        if "queries" in ingest:
            s.query_columns = _merge_columns(
                s.query_columns, ingest["queries"].get("columns", {}), "ingest.queries.columns"
            )
        key_file = doc.get("pseudonymise", {}).get("key_file")
        if key_file:
            kp = (
                (cfg_path.parent / key_file) if not Path(key_file).is_absolute() else Path(key_file)
            )
            try:
                s.pseudonym_key = kp.read_bytes().strip()
            except OSError as exc:
                raise ConfigError(f"{cfg_path}: pseudonymise.key_file: {exc}") from None
            _check_key_length(s.pseudonym_key, f"{cfg_path}: pseudonymise.key_file")
        audit_file = doc.get("audit", {}).get("key_file")
        if audit_file:
            ap = (
                (cfg_path.parent / audit_file)
                if not Path(audit_file).is_absolute()
                else Path(audit_file)
            )
            from ocsea.service.audit import AuditKeyError, parse_key

            try:
                s.audit_key = parse_key(ap.read_bytes(), f"{cfg_path}: audit.key_file")
            except OSError as exc:
                raise ConfigError(f"{cfg_path}: audit.key_file: {exc}") from None
            except AuditKeyError as exc:
                raise ConfigError(str(exc)) from None
        _load_referral_settings(s.referrals, doc, cfg_path)
        from ocsea.web.media import settings_from

        s.media = settings_from(doc, str(cfg_path))
        svc = doc.get("service", {})
        for name, attr, kind, lo, hi in (
            ("rate_per_second", "service_rate_per_second", float, 0.001, 1e6),
            ("burst", "service_burst", int, 1, 10_000_000),
            ("key_ttl_s", "service_key_ttl_s", float, 0.0, 300.0),
        ):
            if name in svc:
                v = svc[name]
                if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                    raise ConfigError(f"{cfg_path}: service.{name} must be a number {lo}..{hi}")
                if kind is int and v != int(v):
                    raise ConfigError(f"{cfg_path}: service.{name} must be a whole number")
                setattr(s, attr, kind(v))
        risk = doc.get("media", {}).get("risk", {})
        if not isinstance(risk, dict):
            raise ConfigError(f"{cfg_path}: [media.risk] must be a table of weights")
        from ocsea.media.risk import check_weights

        try:
            s.media_risk_weights = check_weights(risk) if risk else {}
        except ValueError as exc:
            raise ConfigError(f"{cfg_path}: {exc}") from None
        t = doc.get("text", {}).get("threshold")
        if t is not None:
            s.text_threshold = float(t)
    s.database_url = os.environ.get("OCSEA_DATABASE_URL") or s.database_url
    roots = os.environ.get("OCSEA_EVIDENCE_ROOTS")
    if roots:  # evidence folders the web app may read thumbnails from, os.pathsep between
        from dataclasses import replace

        from ocsea.web.media import MediaSettings

        base = s.media or MediaSettings()
        s.media = replace(base, evidence_roots=tuple(Path(r) for r in roots.split(os.pathsep) if r))
    env_key = os.environ.get("OCSEA_PSEUDONYM_KEY")
    if env_key:
        s.pseudonym_key = env_key.encode()
        _check_key_length(s.pseudonym_key, "OCSEA_PSEUDONYM_KEY")
    return s


def _check_key_length(key: bytes, where: str) -> None:
    """A pseudonym key must be at least 32 random bytes (a short one can be guessed, and with it
    every pseudonym reversed). The key's bytes are used as written, so pseudonyms made with an
    existing key stay the same."""
    from ocsea.service.audit import AuditKeyError, parse_key

    try:
        parse_key(key, where)
    except AuditKeyError as exc:
        raise ConfigError(str(exc)) from None


def _load_referral_settings(r: ReferralSettings, doc: dict, cfg_path: Path) -> None:
    from ocsea.referrals.formats import DEFAULT_CSV_COLUMNS
    from ocsea.referrals.legal_requests import TYPES
    from ocsea.referrals.priority import DEFAULT_CASE_WEIGHTS

    ref = doc.get("referrals", {})
    r.region = str(ref.get("region", r.region)).upper()
    try:
        r.ip_window_hours = float(ref.get("ip_window_hours", r.ip_window_hours))
        r.max_actors = int(ref.get("max_actors", r.max_actors))
    except (TypeError, ValueError):
        raise ConfigError(
            f"{cfg_path}: referrals.ip_window_hours / max_actors must be numbers"
        ) from None
    if not 0 < r.ip_window_hours <= 24 * 30 or r.max_actors < 2:
        raise ConfigError(f"{cfg_path}: referrals.ip_window_hours in (0, 720], max_actors >= 2")
    r.party_contacts = [str(x) for x in ref.get("party_contacts", [])]
    r.min_strength = str(ref.get("min_strength", r.min_strength))
    if r.min_strength not in ("confirmed", "tentative"):
        raise ConfigError(f"{cfg_path}: referrals.min_strength is confirmed or tentative")
    r.thai_ip_ranges = [str(x) for x in ref.get("thai_ip_ranges", [])]
    ranges_file = ref.get("thai_ip_ranges_file")
    if ranges_file:
        fp = Path(ranges_file) if Path(ranges_file).is_absolute() else cfg_path.parent / ranges_file
        try:
            r.thai_ip_ranges += fp.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"{cfg_path}: referrals.thai_ip_ranges_file: {exc}") from None
    if "csv" in ref:
        base = {k: list(v) for k, v in DEFAULT_CSV_COLUMNS.items()}
        r.csv_columns = _merge_columns(base, ref["csv"].get("columns", {}), "referrals.csv.columns")
    for k, v in doc.get("cases", {}).get("weights", {}).items():
        if k not in DEFAULT_CASE_WEIGHTS:
            raise ConfigError(f"{cfg_path}: cases.weights: unknown weight {k!r}")
        if not isinstance(v, int | float):
            raise ConfigError(f"{cfg_path}: cases.weights.{k} must be a number")
        r.case_weights[k] = float(v)
    req = doc.get("requests", {})
    for name in ("due_days", "expiry_days"):
        for k, v in req.get(name, {}).items():
            if k not in TYPES:
                raise ConfigError(f"{cfg_path}: requests.{name}: unknown type {k!r}")
            if not isinstance(v, int) or not 0 < v <= 3650:
                raise ConfigError(f"{cfg_path}: requests.{name}.{k} must be days (1-3650)")
            getattr(r, name)[k] = v
