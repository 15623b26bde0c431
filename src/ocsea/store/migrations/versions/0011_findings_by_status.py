"""findings: an index by status and priority

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 02:00:00

Why: the web app's home page counts findings by status and its queue lists one status by
priority; at 1M findings the count alone scanned the table (SQLite: home page 263 ms p50,
bench/results/web.json). The index answers both from its own pages.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_findings_status_priority", "findings", ["status", "priority"])


def downgrade() -> None:
    op.drop_index("ix_findings_status_priority", table_name="findings")
