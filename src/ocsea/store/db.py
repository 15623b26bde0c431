"""Engine and schema (SQLAlchemy Core). The schema is owned by the Alembic migrations in
``ocsea/store/migrations``; ``make_engine`` upgrades a database to the newest one."""

from __future__ import annotations

import contextlib
import contextvars
import os
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine

metadata = MetaData()

ENTRY_HASH_COLUMNS = ("md5", "sha1", "sha256", "pdq")  # the digests an entry is looked up by

hash_lists = Table(
    "hash_lists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("source", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

hash_list_imports = Table(
    "hash_list_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", ForeignKey("hash_lists.id", ondelete="CASCADE"), nullable=False),
    Column("file_name", String(1000), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("format", String(20), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("n_entries", Integer, nullable=False),
    Column("n_new", Integer, nullable=False),
    UniqueConstraint("list_id", "file_sha256", name="uq_import_file"),
)

hash_entries = Table(
    "hash_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", ForeignKey("hash_lists.id", ondelete="CASCADE"), nullable=False),
    Column("import_id", ForeignKey("hash_list_imports.id"), nullable=True),
    Column("dedupe_key", String(64), nullable=False),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("photodna", Text),
    Column("category", String(100)),
    Column("media_id", String(200)),
    Column("vpdq", JSON),
    Column("extra", JSON),
    UniqueConstraint("list_id", "dedupe_key", name="uq_entry"),
    # Partial (0015): a list has one or two kinds of hash, and every entry without one put a
    # NULL into that kind's index (a 10M PDQ list: three indexes of 10M NULLs; import 96 -> 94 s,
    # the database 7 % smaller). ``col = value`` lookups imply NOT NULL and use them.
    *(
        Index(
            f"ix_entries_{c}",
            c,
            sqlite_where=sql_text(f"{c} IS NOT NULL"),
            postgresql_where=sql_text(f"{c} IS NOT NULL"),
        )
        for c in ENTRY_HASH_COLUMNS
    ),
)

# Every source row behind an entry (0010): the same hash in two rows, two files or two imports of
# an updated list keeps each row's category, media id, case and line; nothing is lost to dedupe.
hash_entry_sources = Table(
    "hash_entry_sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", ForeignKey("hash_entries.id", ondelete="CASCADE"), nullable=False),
    Column("import_id", ForeignKey("hash_list_imports.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer),
    Column("category", String(100)),
    Column("media_id", String(200)),
    Column("extra", JSON),
    Column("seq", Integer),  # the row's place among its file's parsed rows (0014; None before)
    Index("ix_entry_sources_entry", "entry_id"),
)


# ---- triage store (DESIGN §2: items, signals, findings) ------------------------------------------
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),  # p2p_file | query | file | url
    Column("key", String(64), nullable=False),  # stable identity within the kind
    Column("text", Text),  # file name or normalised query
    Column("sha1", String(40)),
    Column("md5", String(32)),
    Column("size", BigInteger),
    Column("first_seen", DateTime(timezone=True)),
    Column("last_seen", DateTime(timezone=True)),
    Column("seen_count", BigInteger, nullable=False, default=0),
    UniqueConstraint("kind", "key", name="uq_item"),
    Index("ix_items_sha1", "sha1"),
    Index("ix_items_md5", "md5"),
)

signals = Table(
    "signals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(20), nullable=False),  # text | hash | media
    Column("source", String(200), nullable=False),  # detector version or hash list name
    Column("label", String(40)),
    Column("score", Float),
    Column("detail", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_id", "type", "source", name="uq_signal"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),  # unknown-flagged | known | near-duplicate | ...
    Column("priority", Float, nullable=False),
    Column("breakdown", JSON, nullable=False),
    Column("status", String(20), nullable=False, default="new"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_findings_priority", "priority"),
    Index("ix_findings_status_priority", "status", "priority"),
)

sharers = Table(
    "sharers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("network", String(40), nullable=False),
    Column("guid", String(200), nullable=False),
    Column("client", String(200)),
    Column("first_seen", DateTime(timezone=True)),
    Column("last_seen", DateTime(timezone=True)),
    Column("priority", Float),
    Column("breakdown", JSON),
    UniqueConstraint("network", "guid", name="uq_sharer"),
)

observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True),
    # The source row's identity (64 bits of a SHA-256 of its fields): a row seen twice counts once.
    Column("row_key", BigInteger, nullable=False),
    Column("sharer_id", ForeignKey("sharers.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("ip", String(45)),
    Column("port", Integer),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("job_id", ForeignKey("ingest_jobs.id")),
    UniqueConstraint("sharer_id", "row_key", name="uq_obs_row"),  # also the index by sharer
    Index("ix_obs_item", "item_id"),
)

# Each sharer's addresses: sightings by IP are found through here (an index of every sighting
# by IP cost a quarter of P2P ingest).
sharer_ips = Table(
    "sharer_ips",
    metadata,
    Column("sharer_id", ForeignKey("sharers.id", ondelete="CASCADE"), nullable=False),
    Column("ip", String(45), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("sharer_id", "ip", name="pk_sharer_ips"),
    Index("ix_sharer_ips_ip", "ip"),
)

query_stats = Table(
    "query_stats",
    metadata,
    Column("day", Date, nullable=False),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("region", String(60), nullable=False, default=""),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("day", "item_id", "region", name="pk_query_stats"),
)

# Pseudonymous sessions behind flagged queries only (keyed hash; raw ids are never stored).
query_sessions = Table(
    "query_sessions",
    metadata,
    Column("day", Date, nullable=False),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("session", String(64), nullable=False),
    PrimaryKeyConstraint("day", "item_id", "session", name="pk_query_sessions"),
)

ingest_jobs = Table(
    "ingest_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),  # p2p | queries | scan
    Column("file_name", String(1000), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # running | done
    Column("byte_offset", BigInteger, nullable=False, default=0),
    Column("line_no", BigInteger, nullable=False, default=0),
    Column("rows_done", BigInteger, nullable=False, default=0),
    Column("rows_rejected", BigInteger, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("kind", "file_sha256", name="uq_ingest_file"),
)

lexicon_terms = Table(
    "lexicon_terms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("term", String(200), nullable=False),
    Column("lang", String(10), nullable=False),
    Column("category", String(30), nullable=False),
    Column("weight", Float, nullable=False),
    Column("source", String(300), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("term", "category", name="uq_lexicon_term"),
)

term_candidates = Table(
    "term_candidates",
    metadata,
    Column("term", String(200), primary_key=True),
    Column("score", Float, nullable=False),  # Dunning log-likelihood ratio G2
    Column("flagged_count", BigInteger, nullable=False),
    Column("total_count", BigInteger, nullable=False),
    Column("rising", Float),
    Column("examples", JSON),
    Column("discovered_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, default="new"),  # new | accepted | rejected
)


# ---- service: accounts, API keys, audit (DESIGN §7) ---------------------------------------------
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(20), nullable=False),
    Column("disabled", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_id", String(32), nullable=False, unique=True),  # public part of the key
    Column("secret_sha256", String(64), nullable=False),  # the secret itself is never stored
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

# Append-only and hash-chained: each entry's hash covers its content and the previous hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("target", String(300), nullable=False, default=""),
    Column("detail", JSON),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(16)),  # the HMAC key's id (ocsea.service.audit.key_id); None: SHA-256
    # One entry follows each entry: a second one would fork the chain (0008).
    Index("uq_audit_prev_hash", "prev_hash", unique=True),
)


# Browser sessions of users (the token is stored hashed; CSRF token checked on every write).
sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("csrf", String(64), nullable=False),
    Column("username", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_seen_at", DateTime(timezone=True)),  # idle timeout (0009)
)

# Failed logins per account (``user:<name>``) and per client address (``ip:<addr>``): after a few
# free attempts each failure locks the key for twice as long as the one before (0009).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)


# API rate limits shared by every service instance and worker on this database (0012): one token
# bucket per API key, drawn on in small leases (ocsea.service.ratelimit).
rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),  # seconds since the epoch
)


# Analyst decisions on findings (ICCAM classification); exportable as labelled data.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("finding_id", ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
    Column("reviewer", String(200), nullable=False),
    Column("classification", String(20), nullable=False),  # baseline | national | not_illegal
    Column("age_group", String(20), nullable=False),  # infant | prepubescent | pubescent | unknown
    Column("virtual", Integer, nullable=False, default=0),  # drawn / CGI
    Column("notes", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_finding", "finding_id"),
)


# ---- referrals, entities, cases, cross-border requests (issue 6; docs/referrals.md) -----------
# The original documents, byte for byte; referrals point into them.
referral_documents = Table(
    "referral_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("file_name", String(1000), nullable=False),
    Column("format", String(20), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", String(200), nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(20), nullable=False),  # ncmec | cybertip-xml | hotline | csv
    Column("report_id", String(200), nullable=False),
    Column("content_sha256", String(64), nullable=False, unique=True),
    Column("document_id", ForeignKey("referral_documents.id"), nullable=False),
    Column("locator", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("incident_type", String(200)),
    Column("reporter", String(300)),
    Column("summary", JSON, nullable=False),
    Column("case_key", String(40)),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source", "report_id", name="uq_referral"),
    Index("ix_referrals_case", "case_key"),
)

entities = Table(
    "entities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("value", String(600), nullable=False),
    UniqueConstraint("kind", "value", name="uq_entity"),
)

# One identifier as one referral states it (an IP always with its time).
mentions = Table(
    "mentions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("referral_id", ForeignKey("referrals.id", ondelete="CASCADE"), nullable=False),
    Column("entity_id", ForeignKey("entities.id"), nullable=False),
    Column("role", String(40), nullable=False),
    Column("field", String(300), nullable=False),
    Column("display", String(600), nullable=False),
    Column("seen_at", DateTime(timezone=True)),
    Index("ix_mentions_entity", "entity_id"),
    Index("ix_mentions_referral", "referral_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(40), nullable=False, unique=True),  # C<lowest referral id>
    Column("status", String(20), nullable=False),  # open | merged
    Column("merged_into", String(40)),
    Column("referral_ids", JSON, nullable=False),
    Column("sharer_ids", JSON, nullable=False),
    Column("priority", Float, nullable=False),
    Column("breakdown", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_cases_priority", "priority"),
)

# An analyst's correction of the offender-network graph (docs/referrals.md, Corrections): applied
# on every relink, so no rebuild undoes it; revoked, never deleted.
link_decisions = Table(
    "link_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("action", String(20), nullable=False),  # not_identifying | split | merge
    Column("kind", String(30), nullable=False, default=""),
    Column("value", String(600), nullable=False, default=""),
    Column("side_a", JSON, nullable=False),  # referral ids
    Column("side_b", JSON, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_by", String(200)),
    Column("revoked_at", DateTime(timezone=True)),
)

legal_requests = Table(
    "legal_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(30), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("requesting_state", String(100), nullable=False),
    Column("requested_state", String(100), nullable=False),
    Column("central_authority", String(300), nullable=False, default=""),
    Column("legal_basis", String(300), nullable=False, default=""),
    Column("provider", String(200), nullable=False, default=""),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("drafted_on", Date),
    Column("sent_on", Date),
    Column("acknowledged_on", Date),
    Column("due_on", Date),
    Column("executed_on", Date),
    Column("expires_on", Date),
    Column("follow_up_id", ForeignKey("legal_requests.id")),
    Column("referrals", JSON, nullable=False),
    Column("entities", JSON, nullable=False),
    Column("notes", Text, nullable=False, default=""),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_requests_due", "due_on"),
    Index("ix_requests_expires", "expires_on"),
)


def default_url() -> str:
    from ocsea.config import load_settings

    url = load_settings().database_url
    if url:
        return url
    home = Path(os.environ.get("OCSEA_HOME") or Path.home() / ".local" / "share" / "ocsea")
    with contextlib.suppress(OSError):  # read-only home: the error comes when the db is opened
        home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'ocsea.db'}"


# Set by read-only CLI commands (ocsea.cli.common.read_only): never create a database.
READ_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("ocsea_read_only", default=False)


class DatabaseMissing(FileNotFoundError):
    """A read-only command pointed at a database file that does not exist."""


def database_url(url: str) -> str:
    """A URL from what users type: a plain path is a SQLite file; ``postgres://`` and
    ``postgresql://`` use the psycopg driver this project installs."""
    text = url.strip()
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    scheme, rest = text.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return text


def make_engine(url: str | None = None, upgrade: bool = True) -> Engine:
    """Engine for ``url`` (default: settings); brings the schema to the newest migration."""
    url = database_url(url or default_url())
    if READ_ONLY.get() and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise DatabaseMissing(f"no database at {path} (a read-only command creates none; "
                                  "check --db, or `ocsea db upgrade --db PATH` to create one)")  # fmt: skip
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(
                "PRAGMA cache_size=-65536"
            )  # 64 MB: index inserts of million-row ingests stay in memory
            cur.close()

    if upgrade:
        from ocsea.store.migrate import upgrade as run_upgrade

        run_upgrade(engine)
    return engine
