import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("PYTHAINLP_DATA", str(Path(__file__).resolve().parents[1] / ".cache" / "ptd"))

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def detector():
    from ocsea.text.detector import Detector

    return Detector.load()


@pytest.fixture(scope="session")
def lexicon(detector):
    return detector.lexicon


from hypothesis import settings  # noqa: E402

# CI replays a fixed set of examples (no flaky runs); local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _postgres_url() -> str | None:
    url = os.environ.get("OCSEA_TEST_POSTGRES_URL")
    if not url and os.environ.get("OCSEA_REQUIRE_POSTGRES"):
        raise RuntimeError("OCSEA_REQUIRE_POSTGRES is set but OCSEA_TEST_POSTGRES_URL is not")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, migrated database on each backend. PostgreSQL comes from
    scripts/start-test-postgres.sh (``make test`` starts it; CI requires it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ocsea.db'}"
        return
    url = _postgres_url()
    if not url:
        pytest.skip("no PostgreSQL (run scripts/start-test-postgres.sh)")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


@pytest.fixture(scope="module")
def cluster():
    """A Dask local cluster for the ``--dask`` tests (tests/test_cluster_*.py): two worker
    processes of one thread, as ``--dask local:2`` starts, shared by a module's tests."""
    with (
        _distributed().LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        ) as local,
        _distributed().Client(local) as client,
    ):
        yield local.scheduler_address, client


def _distributed():
    return pytest.importorskip("distributed")
