"""audit log: the HMAC key's id per entry; one entry after each entry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 20:05:00

Why: entries hashed with a key (HMAC) say which key, so that verify checks each with its own and
names a missing one. A unique index on prev_hash makes a fork (two entries after one) impossible
at the database, whatever the application does. A log that already forked (before appends were
serialised on SQLite) keeps its entries: the index is not created there, and `ocsea audit verify`
names the forks.
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    conn = op.get_bind()
    forks = conn.execute(
        sa.text(
            "SELECT count(*) FROM (SELECT prev_hash FROM audit_log GROUP BY prev_hash HAVING count(*) > 1) f"
        )
    ).scalar()
    if forks:
        logging.getLogger("alembic").warning(
            "audit_log already forks at %d entries: no unique index; `ocsea audit verify` lists them",
            forks,
        )
        return
    op.create_index("uq_audit_prev_hash", "audit_log", ["prev_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_audit_prev_hash", table_name="audit_log", if_exists=True)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
