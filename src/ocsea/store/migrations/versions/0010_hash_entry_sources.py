"""hash lists: every source row behind an entry

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 20:55:00

Why: a second row for the same hash (another media id, category or case), or an updated list that
re-categorises an entry, was dropped by de-duplication and its provenance lost. Entries stay one per
hash and list; each row that named them is kept here with its import, line, category, media id
and the rest of its fields. Existing entries get no source rows (their first import is in
hash_list_imports).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hash_entry_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("media_id", sa.String(length=200), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["hash_entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["hash_list_imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_entry_sources_entry", "hash_entry_sources", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_entry_sources_entry", table_name="hash_entry_sources")
    op.drop_table("hash_entry_sources")
