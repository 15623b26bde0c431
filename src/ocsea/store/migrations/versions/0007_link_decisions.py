"""analysts' corrections of the offender-network graph: link_decisions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 20:10:00

Why: an analyst who splits a wrongly merged network, merges two, or marks an identifier as not
identifying (a café's Wi-Fi) must not see the next import undo it. Decisions are rows applied on
every relink; revoking one sets ``revoked_at`` and keeps the row for the record.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.Column("side_a", sa.JSON(), nullable=False),
        sa.Column("side_b", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("link_decisions")
