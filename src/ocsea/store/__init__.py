"""Persistent store (SQLAlchemy 2). SQLite (WAL) by default; the URL comes from
``OCSEA_DATABASE_URL`` or ``--db``."""
