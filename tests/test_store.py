from sqlalchemy import create_engine, inspect

from ocsea.store.db import hash_entries, hash_list_imports, hash_lists, make_engine, metadata
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


def _schema(engine) -> dict:
    insp = inspect(engine)
    return {
        t: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
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
    p = run("db", "status", "--db", db)
    assert "run ocsea db upgrade" in p.stdout.decode()
    run("db", "upgrade", "--db", db)
    assert f"revision: {head_revision()}" in run("db", "status", "--db", db).stdout.decode()
