"""observation row keys: 64 bits, unique per sharer; sharer IPs in a table of their own

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:30:00

Why: the unique index on 64-character hex row keys was the largest single cost of P2P ingest
(each insert lands on a random page of an index as large as the table's own data). A key is now
the first 64 bits of the same SHA-256, signed, unique within its sharer, and that index also
serves lookups by sharer, so ``ix_obs_sharer`` goes. Existing keys convert exactly (the new
ingest computes the same 64 bits), so re-ingested rows still count once.

The index of sightings by IP goes too (2.2 s of 8.9 s for a million inserts): ``sharer_ips``
holds each sharer's addresses with first and last sighting, indexed by address, and a lookup by
IP finds the sharers there and then their sightings by sharer.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 50_000
_COLUMNS = "id, row_key, sharer_id, item_id, ip, port, seen_at, job_id"


def _create(name: str, key_type: sa.types.TypeEngine, unique: sa.UniqueConstraint) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_key", key_type, nullable=False),
        sa.Column("sharer_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["ingest_jobs.id"]),
        sa.ForeignKeyConstraint(["sharer_id"], ["sharers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        unique,
    )


def _signed64(hex_key: str) -> int:
    return int.from_bytes(bytes.fromhex(hex_key[:16]), "big", signed=True)


def _sqlite_time(text: str) -> str:
    """Ingest before this revision stored sighting times as the sqlite3 module's default text
    ("2026-10-01 12:00:00+00:00"); now as SQLAlchemy stores every other time (UTC, naive)."""
    t = datetime.fromisoformat(text)
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def upgrade() -> None:
    _observations_upgrade()
    op.create_table(
        "sharer_ips",
        sa.Column("sharer_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sharer_id"], ["sharers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sharer_id", "ip", name="pk_sharer_ips"),
    )
    op.create_index("ix_sharer_ips_ip", "sharer_ips", ["ip"], unique=False)
    op.execute(
        "INSERT INTO sharer_ips (sharer_id, ip, first_seen, last_seen) SELECT sharer_id, ip, "
        "min(seen_at), max(seen_at) FROM observations WHERE ip IS NOT NULL GROUP BY sharer_id, ip"
    )


def _observations_upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # in place: PostgreSQL converts the keys itself
        op.drop_index("ix_obs_sharer", table_name="observations")
        op.drop_index("ix_obs_ip", table_name="observations")
        op.drop_constraint("observations_row_key_key", "observations", type_="unique")
        op.execute(
            "ALTER TABLE observations ALTER COLUMN row_key TYPE BIGINT "
            "USING ('x' || substr(row_key, 1, 16))::bit(64)::bigint"
        )
        op.create_unique_constraint("uq_obs_row", "observations", ["sharer_id", "row_key"])
        return
    # SQLite cannot change a column's type or drop an unnamed constraint: copy into a new table,
    # converting the keys here (SQLite has no hex-to-integer function), then swap the tables.
    _create(
        "observations_new",
        sa.BigInteger(),
        sa.UniqueConstraint("sharer_id", "row_key", name="uq_obs_row"),
    )
    last = -1
    while True:
        rows = bind.exec_driver_sql(
            f"SELECT {_COLUMNS} FROM observations WHERE id > ? ORDER BY id LIMIT {_BATCH}",
            (last,),
        ).fetchall()
        if not rows:
            break
        bind.exec_driver_sql(
            f"INSERT INTO observations_new ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r[0], _signed64(r[1]), *r[2:6], _sqlite_time(r[6]), r[7]) for r in rows],
        )
        last = rows[-1][0]
    op.drop_table("observations")
    op.rename_table("observations_new", "observations")
    op.create_index("ix_obs_item", "observations", ["item_id"], unique=False)


def downgrade() -> None:
    # The old keys were 64 hex digits; only their first 16 can be recovered (still unique).
    op.drop_index("ix_sharer_ips_ip", table_name="sharer_ips")
    op.drop_table("sharer_ips")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint("uq_obs_row", "observations", type_="unique")
        op.create_index("ix_obs_ip", "observations", ["ip"], unique=False)
        op.execute(
            "ALTER TABLE observations ALTER COLUMN row_key TYPE VARCHAR(64) "
            "USING lpad(to_hex(row_key), 16, '0')"
        )
        op.create_unique_constraint("observations_row_key_key", "observations", ["row_key"])
        op.create_index("ix_obs_sharer", "observations", ["sharer_id"], unique=False)
        return
    _create("observations_old", sa.String(length=64), sa.UniqueConstraint("row_key"))
    op.execute(
        f"INSERT INTO observations_old ({_COLUMNS}) SELECT id, printf('%016x', row_key), "
        "sharer_id, item_id, ip, port, seen_at, job_id FROM observations"
    )
    op.drop_table("observations")
    op.rename_table("observations_old", "observations")
    op.create_index("ix_obs_ip", "observations", ["ip"], unique=False)
    op.create_index("ix_obs_item", "observations", ["item_id"], unique=False)
    op.create_index("ix_obs_sharer", "observations", ["sharer_id"], unique=False)
