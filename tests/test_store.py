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


def test_db_commands(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    p = run("db", "status", "--db", db)
    assert "run ocsea db upgrade" in p.stdout.decode()
    run("db", "upgrade", "--db", db)
    assert f"revision: {head_revision()}" in run("db", "status", "--db", db).stdout.decode()
