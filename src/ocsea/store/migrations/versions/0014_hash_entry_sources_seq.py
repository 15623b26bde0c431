"""hash_entry_sources.seq: each source row's place in its file

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 10:40:00

Why: exports list a list's entries in the order its files gave them, by each entry's first
source line (issue 17). A minified VICS file is one line, so its entries came back in key order.
The row's place among the file's parsed rows orders them whatever the file's layout. Sources
imported before this revision have none and keep the line order.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hash_entry_sources") as batch:
        batch.add_column(sa.Column("seq", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hash_entry_sources") as batch:
        batch.drop_column("seq")
