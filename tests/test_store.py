from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select

from ocsea.store.db import (
    hash_entries,
    hash_list_imports,
    hash_lists,
    make_engine,
    metadata,
    observations,
    sharer_ips,
)
from ocsea.store.migrate import current_revision, head_revision

from .test_cli import run


def test_migrations_create_every_table(db_url):
    engine = make_engine(db_url)
    assert current_revision(engine) == head_revision()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    make_engine(db_url)  # a second start changes nothing
    engine.dispose()


def test_database_from_before_migrations_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy = create_engine(url)
    metadata.create_all(legacy, tables=[hash_lists, hash_list_imports, hash_entries])
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    assert "findings" in inspect(engine).get_table_names()


def _where(index: dict) -> str:
    """A partial index's predicate, as reflected ("" for none)."""
    where = index.get("dialect_options", {}).get("sqlite_where")
    return "" if where is None else str(where)


def _schema(engine) -> dict:
    insp = inspect(engine)
    return {
        t: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]), _where(i))
                   for i in insp.get_indexes(t)),
            sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
        )
        for t in insp.get_table_names()
    }  # fmt: skip


def test_an_adopted_database_has_the_same_schema_as_a_new_one(tmp_path):
    """Adoption runs revision 0001 around the existing hash-list tables, so every later revision
    finds the tables as 0001 made them, whatever the code's current schema is."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy = create_engine(url)
    metadata.create_all(legacy, tables=[hash_lists, hash_list_imports, hash_entries])
    adopted = make_engine(url)
    fresh = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert _schema(adopted) == _schema(fresh)


def test_db_commands(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    p = run("db", "status", "--db", db, check=False)
    assert p.returncode == 2 and "run ocsea db upgrade" in p.stdout.decode()
    assert not (tmp_path / "c.db").exists()  # status creates nothing
    run("db", "upgrade", "--db", db)
    assert f"revision: {head_revision()}" in run("db", "status", "--db", db).stdout.decode()


def test_migrations_build_the_schema_the_code_declares(db_url, tmp_path):
    """Every revision in order gives what ``metadata`` says (a revision that forgets a column,
    index or constraint of db.py fails here)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("compared on SQLite (reflected type names differ by backend)")
    declared = create_engine(f"sqlite:///{tmp_path / 'declared.db'}")
    metadata.create_all(declared)
    migrated = _schema(make_engine(db_url))
    assert migrated.pop("alembic_version")
    assert migrated == _schema(declared)


def test_revision_0006_converts_sighting_keys_and_times_and_fills_sharer_ips(
    db_url, tmp_path, detector
):
    """Sightings stored before 0006 (hex row keys, the sqlite3 module's time text) become 64-bit
    keys that a new ingest of the same rows matches, so they are not stored twice."""
    from ocsea.config import Settings
    from ocsea.ingest.p2p import ingest_p2p
    from ocsea.ingest.rows import item_key, parse_p2p
    from ocsea.store.migrate import upgrade

    def utc(t: datetime) -> datetime:  # SQLite gives naive UTC, PostgreSQL its session's zone
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t

    p = tmp_path / "p.csv"
    p.write_text(
        "timestamp,network,ip,guid,filename\n"
        "2026-10-01T10:00:00Z,gnutella,192.0.2.1,G1,a.jpg\n"
        "2026-10-01T11:30:00.25Z,gnutella,192.0.2.2,G1,b.jpg\n"
        "2026-10-02T09:00:00+07:00,gnutella,192.0.2.1,G1,a.jpg\n"
    )
    cols = {f: f for f in ("timestamp", "network", "ip", "guid", "filename")}
    recs = [parse_p2p(dict(zip(cols, line.split(","), strict=True)), cols)
            for line in p.read_text().splitlines()[1:]]  # fmt: skip
    engine = make_engine(db_url, upgrade=False)
    upgrade(engine, "0005")
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sharers (id, network, guid) VALUES (1, 'gnutella', 'G1')")
        ids: dict[str, int] = {}
        for r in recs:
            k = item_key(r.item_identity())
            if k not in ids:
                ids[k] = len(ids) + 1
                conn.exec_driver_sql(
                    f"INSERT INTO items (id, kind, key, text, seen_count) VALUES ({ids[k]}, "
                    f"'p2p_file', '{k}', '{r.filename}', 0)"
                )
            old_key = (r.row_key() & (2**64 - 1)).to_bytes(8, "big").hex() + "5" * 48
            seen = str(r.seen_at) if sqlite else r.seen_at  # "2026-10-01 10:00:00+00:00"
            conn.exec_driver_sql(
                "INSERT INTO observations (row_key, sharer_id, item_id, ip, seen_at) "
                + ("VALUES (?, 1, ?, ?, ?)" if sqlite else "VALUES (%s, 1, %s, %s, %s)"),
                (old_key, ids[item_key(r.item_identity())], r.ip, seen),
            )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(observations).order_by(observations.c.id)).all()
        assert [o.row_key for o in rows] == [r.row_key() for r in recs]
        assert [utc(o.seen_at) for o in rows] == [r.seen_at for r in recs]
        ips = {
            (r.ip, utc(r.first_seen), utc(r.last_seen)) for r in conn.execute(select(sharer_ips))
        }
        assert ips == {("192.0.2.1", recs[0].seen_at, recs[2].seen_at),
                       ("192.0.2.2", recs[1].seen_at, recs[1].seen_at)}  # fmt: skip
    r = ingest_p2p(engine, p, detector, Settings())
    assert r.rows_done == 3
    with engine.connect() as conn:
        assert len(conn.execute(select(observations.c.id)).all()) == 3
    engine.dispose()


def test_ids_by_natural_key_search_the_index(tmp_path):
    """Found by (kind, key) across kinds, and each lookup is an index search: SQLite scans the
    whole index for a row-value IN list, which grows with the store."""
    from sqlalchemy import event, insert

    from ocsea.ingest.signals import ids_by_key
    from ocsea.store.db import items

    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    with engine.begin() as conn:
        conn.execute(insert(items), [{"kind": kind, "key": f"{kind}{i}", "seen_count": 0}
                                     for kind in ("query", "p2p_file") for i in range(3000)])  # fmt: skip
    wanted = [("query", "query5"), ("p2p_file", "p2p_file5"), ("query", "query2999"), ("url", "x")]
    wanted += [("p2p_file", f"p2p_file{i}") for i in range(100, 2600)]  # more than one batch
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cur, sql, params, ctx, many: statements.append((sql, params)))  # fmt: skip
    with engine.connect() as conn:
        got = ids_by_key(conn, items, [items.c.kind, items.c.key], wanted)
        lookups = list(statements)
        ids = {(r.kind, r.key): r.id for r in conn.execute(select(items))}
        assert got == {k: ids[k] for k in wanted if k in ids} and len(got) == len(wanted) - 1
        assert len(lookups) == 4  # query, url, and p2p_file in two batches
        for sql, params in lookups:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            assert all("SCAN" not in row[-1] for row in plan), plan
    engine.dispose()


def test_bulk_insert_adds_and_skips_the_same_on_both_backends(db_url):
    """Large batches go through COPY on PostgreSQL and executemany on SQLite: counts add up,
    a sighting already stored is skipped, and times arrive as UTC either way."""
    from datetime import date, timedelta

    from sqlalchemy import func, insert

    from ocsea.ingest.stream import COPY_MIN_ROWS, bulk_insert
    from ocsea.store.db import items, query_stats, sharers

    engine = make_engine(db_url)
    t0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    n = COPY_MIN_ROWS + 200
    with engine.begin() as conn:
        conn.execute(insert(items).values(id=1, kind="query", key="k", seen_count=0))
        conn.execute(insert(sharers).values(id=1, network="gnutella", guid="G1"))
        stats = [(date(2026, 1, 1) + timedelta(days=i), 1, "bkk", 2) for i in range(n)]
        add = "ON CONFLICT (day, item_id, region) DO UPDATE SET count = query_stats.count + excluded.count"
        bulk_insert(conn, query_stats, ["day", "item_id", "region", "count"], stats, add)
        bulk_insert(conn, query_stats, ["day", "item_id", "region", "count"], stats, add)
        seen = [
            (i % (n - 100), 1, 1, "192.0.2.1", 6346, t0 + timedelta(seconds=i)) for i in range(n)
        ]
        cols = ["row_key", "sharer_id", "item_id", "ip", "port", "seen_at"]
        bulk_insert(conn, observations, cols, seen, "ON CONFLICT (sharer_id, row_key) DO NOTHING")
    with engine.connect() as conn:
        assert conn.execute(select(func.sum(query_stats.c.count))).scalar() == 4 * n
        assert conn.execute(select(func.count()).select_from(observations)).scalar() == n - 100
        first = conn.execute(
            select(observations.c.seen_at).where(observations.c.row_key == 0)
        ).scalar()
        assert (first if first.tzinfo else first.replace(tzinfo=UTC)) == t0
    engine.dispose()


def test_the_newest_migration_file_is_alembics_head():
    """Start-up skips alembic when the database is at the newest file's revision: the two must
    agree (a migration named out of order would leave databases behind)."""
    from ocsea.store.migrate import newest_file_revision

    assert newest_file_revision() == head_revision()
