"""accounts: failed-login throttling; sessions' last use for the idle timeout

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 20:30:00

Why: 200 wrong passwords for an admin account met no resistance beyond argon2's cost; each
account and each client address now has a failure count and a lock that doubles. A session that
has not been used for 30 minutes ends (it had only an absolute lifetime).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("last_seen_at")
    op.drop_table("login_throttle")
