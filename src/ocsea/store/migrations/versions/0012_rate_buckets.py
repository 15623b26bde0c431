"""rate_buckets: API rate limits shared by every service instance on one database

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 05:30:00

Why: the token buckets lived in each worker's memory, so two `ocsea serve` processes (or two
uvicorn workers) each allowed the whole limit (issue 20). One row per API key holds the bucket;
instances lease tokens from it in small batches.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
