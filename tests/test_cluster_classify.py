"""``ocsea classify --dask``: the same bytes as a plain run, from a file or stdin, through a
worker killed mid-run, with each distinct text sent to the cluster once; ``ingest``'s input cut
on line starts; one-line errors for a bad ``--dask``."""

import io
import logging
import os
import random
import subprocess
import sys
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ocsea.cli.app import app
from ocsea.cluster import connect, ranges, submit
from ocsea.cluster.ranges import ByteRange, split_lines
from ocsea.cluster.spec import ClusterError, LocalWorkers, Scheduler, parse_spec
from ocsea.text import batch
from ocsea.text.dataset import read_lines

from .cluster_faults import kill_after_three_results

distributed = pytest.importorskip("distributed")

ENGLISH = "weather today price phone laptop coffee rice noodle bus train ticket football score"
THAI = "อากาศ วันนี้ ราคา โทรศัพท์ กาแฟ ข้าว ก๋วยเตี๋ยว รถเมล์ รถไฟ ตั๋ว ฟุตบอล สูตร ตลาด เชียงใหม่"
PRODUCTS = ("iphone 15 pro", "galaxy s24", "thinkpad x1", "honda click 125", "ps5 slim")


def mixed_lines(n: int, seed: int = 0) -> bytes:
    """Ordinary Thai, English and mixed lines with bad ones among them: invalid UTF-8, empty,
    blank, over-long (64 KiB), CRLF endings, and no newline after the last line."""
    rng = random.Random(seed)
    en, th = ENGLISH.split(), THAI.split()
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.01:
            line = b""
        elif r < 0.02:
            line = b"   "
        elif r < 0.03:
            line = "ราคา ".encode() + b"\xff\xfe " + str(i).encode()
        elif i in (7, n // 2):
            line = ("coffee " * 10_000).encode()
        else:
            words = [rng.choice(en if rng.random() < 0.5 else th) for _ in range(rng.randint(1, 6))]
            if rng.random() < 0.2:
                words.append(rng.choice(PRODUCTS))
            line = " ".join([*words, str(i)]).encode()
        out.append(line + (b"\r\n" if rng.random() < 0.1 else b"\n"))
    return b"".join(out).removesuffix(b"\n")


def invoke(*args: str, stdin: bytes | None = None, env: dict | None = None):
    return CliRunner().invoke(app, ["classify", *args], input=stdin, env=env)


def same_run(plain, dask) -> None:
    assert dask.exit_code == plain.exit_code
    assert dask.stdout_bytes == plain.stdout_bytes
    assert dask.stderr_bytes == plain.stderr_bytes


@pytest.fixture(scope="module")
def mixed_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("in") / "mixed.txt"
    path.write_bytes(mixed_lines(3000))
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("block_bytes", [None, 8192])  # the default block (one), many blocks
def test_a_file_gives_the_same_bytes_as_a_plain_run(
    cluster, mixed_file, monkeypatch, fmt, block_bytes
):
    if block_bytes:
        monkeypatch.setattr(batch, "BLOCK_BYTES", block_bytes)
    plain = invoke(str(mixed_file), "-f", fmt)
    assert plain.exit_code == 1 and b"line 8: line longer than 65536 bytes" in plain.stderr_bytes
    same_run(plain, invoke(str(mixed_file), "-f", fmt, "--dask", cluster[0]))


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("through_text", [False, True])
def test_repeated_lines_give_the_same_bytes_across_parts(
    cluster, tmp_path, monkeypatch, fmt, through_text
):
    """A query log repeats its lines: each distinct text goes to the cluster once (a block's
    repeats of an earlier block's texts are written from their rendering), and the client
    writes the blocks' bytes as they come, or through the text layer where stdout is not plain
    UTF-8."""
    import ocsea.cli.text as cli_text

    rng = random.Random(3)
    vocab = [line for line in mixed_lines(40, seed=4).split(b"\n") if len(line) < 1000]
    path = tmp_path / "log.txt"
    path.write_bytes(b"\n".join(rng.choice(vocab) for _ in range(3000)) + b"\n")
    monkeypatch.setattr(batch, "BLOCK_BYTES", 4096)
    if through_text:
        monkeypatch.setattr(cli_text, "_utf8_stdout", lambda: False)
    plain = invoke(str(path), "-f", fmt)
    sent: list[bytes] = []
    ordered = submit.ordered_results

    def counted(client, fn, args, parts, window):
        def kept(parts):
            for part in parts:
                sent.extend(part)
                yield part

        return ordered(client, fn, args, kept(parts), window)

    monkeypatch.setattr(submit, "ordered_results", counted)
    same_run(plain, invoke(str(path), "-f", fmt, "--dask", cluster[0]))
    assert sorted(sent) == sorted(set(path.read_bytes().split(b"\n")[:-1]))


def test_stdin_gives_the_same_bytes_with_the_spec_from_the_environment(cluster, monkeypatch):
    monkeypatch.setattr(batch, "BLOCK_BYTES", 16_384)
    data = mixed_lines(2000, seed=1)
    plain = invoke("-", "-f", "csv", stdin=data)
    assert plain.exit_code == 1
    same_run(plain, invoke("-", "-f", "csv", stdin=data, env={"OCSEA_DASK": cluster[0]}))


def test_the_table_lists_the_same_records(cluster, tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(mixed_lines(200, seed=2))
    same_run(
        invoke(str(path), "-f", "table"), invoke(str(path), "-f", "table", "--dask", cluster[0])
    )


def test_local_workers_give_the_same_bytes(tmp_path):
    """``--dask local:2`` through the real command: a cluster started and closed by it."""
    path = tmp_path / "in.txt"
    path.write_bytes(mixed_lines(400, seed=3))

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ocsea.cli", "classify", str(path), "-f", "jsonl", *extra],
            capture_output=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            timeout=120,
        )

    plain, dask = run(), run("--dask", "local:2")
    assert plain.returncode == dask.returncode == 1
    assert dask.stderr == plain.stderr, dask.stderr.decode()[:3000]
    assert dask.stdout == plain.stdout


def test_a_worker_killed_mid_run_costs_a_retry_not_a_line(cluster, tmp_path, monkeypatch):
    """After the third part is written, one worker busy with a part is killed (SIGKILL); the
    scheduler runs its parts again elsewhere and the output is still whole, in order, once."""
    address, client = cluster
    path = tmp_path / "big.txt"
    path.write_bytes(mixed_lines(12_000, seed=4))
    monkeypatch.setattr(batch, "BLOCK_BYTES", 16_384)  # some 50 blocks, 4 in the cluster
    plain = invoke(str(path), "-f", "jsonl")
    killed, written = kill_after_three_results(monkeypatch, client)
    dask = invoke(str(path), "-f", "jsonl", "--dask", address)
    same_run(plain, dask)
    assert killed and written[0] > 3 + 2 * submit.WINDOW_PER_SLOT * 2  # most parts came after
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert killed[0] not in client.run(os.getpid).values()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("tcp:/host:8786", "expected tcp://HOST:PORT"),
        ("host:8786", "expected tcp://HOST:PORT"),
        ("tcp://host", "expected tcp://HOST:PORT"),
        ("tcp://host:port", "expected tcp://HOST:PORT"),
        ("local:", "whole number"),
        ("local:two", "whole number"),
        ("local:-1", "whole number"),
        ("local:0", "at least 1"),
    ],
)
def test_a_bad_spec_is_one_line_and_exit_2(tmp_path, spec, words):
    path = tmp_path / "in.txt"
    path.write_text("weather today\n", encoding="utf-8")
    r = invoke(str(path), "--dask", spec)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and words in r.stderr and r.stderr.startswith("error:")


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setattr(connect, "CONNECT_TIMEOUT_S", 1.0)
    path = tmp_path / "in.txt"
    path.write_text("weather today\n", encoding="utf-8")
    r = invoke(str(path), "--dask", "tcp://127.0.0.1:9")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "tcp://127.0.0.1:9 did not answer within 1 s" in r.stderr


def test_a_scheduler_without_workers_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setattr(connect, "CONNECT_TIMEOUT_S", 1.0)
    path = tmp_path / "in.txt"
    path.write_text("weather today\n", encoding="utf-8")
    with distributed.LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tcp://",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    ) as empty:
        r = invoke(str(path), "--dask", empty.scheduler_address)
    assert r.exit_code == 2 and "has no workers" in r.stderr and r.stderr.count("\n") == 1


def test_without_dask_installed_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    path = tmp_path / "in.txt"
    path.write_text("weather today\n", encoding="utf-8")
    r = invoke(str(path), "--dask", "local:1")
    assert r.exit_code == 2 and "pip install 'ocsea[cluster]'" in r.stderr


def test_the_plain_command_does_not_import_dask(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("weather today\n", encoding="utf-8")
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom ocsea.cli.app import app\n"
        f"r = CliRunner().invoke(app, ['classify', {str(path)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OCSEA_DASK"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode().strip() == "[]"


def test_parse_spec():
    assert parse_spec("tcp://10.0.0.5:8786") == Scheduler("tcp://10.0.0.5:8786")
    assert parse_spec("tcp://[::1]:8786") == Scheduler("tcp://[::1]:8786")
    assert parse_spec(" local:3 ") == LocalWorkers(3)
    with pytest.raises(ClusterError):
        parse_spec("tcp://user@host:8786")


# The input cut into ranges: property tests.

_piece = st.one_of(
    st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")),
    st.sampled_from([b"", b"\r", b" ", "ราคา".encode(), b"\xff\xfe", b"x" * 300]),
)
_files = st.builds(
    lambda lines, ending, last: ending.join(lines) + (ending if last else b""),
    st.lists(_piece, max_size=40),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
)
_mixed_endings = st.lists(
    st.tuples(_piece, st.sampled_from([b"\n", b"\r\n", b""])), max_size=40
).map(lambda pairs: b"".join(p + e for p, e in pairs))


def cut(data: bytes, parts: int, block: int) -> list[ByteRange]:
    with mock.patch.object(ranges, "_BLOCK", block):
        return list(split_lines(io.BytesIO(data), parts))


def numbered(data: bytes, first_line: int = 1) -> list[tuple[int, str | None, str | None]]:
    return [(x.lineno, x.text, x.error) for x in read_lines(io.BytesIO(data), first_line)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(_files, _mixed_endings),
    parts=st.integers(1, 12),
    block=st.sampled_from([1, 2, 5, 64, 1 << 20]),
)
@example(data=b"", parts=3, block=1 << 20)
@example(data=b"\n\n\n", parts=3, block=1)
@example(data=b"one line, no newline", parts=5, block=2)
def test_ranges_cover_the_file_on_line_starts_with_its_line_numbers(data, parts, block):
    got = cut(data, parts, block)
    assert len(got) <= parts
    assert [r.start for r in got] == [0, *(r.end for r in got[:-1])][: len(got)]
    assert (got[-1].end if got else 0) == len(data)
    lines = []
    for r in got:
        assert r.start < r.end
        assert r.start == 0 or data[r.start - 1 : r.start] == b"\n"
        assert r.first_line == data[: r.start].count(b"\n") + 1
        lines += numbered(data[r.start : r.end], r.first_line)
    assert lines == numbered(data)


def test_a_single_huge_line_is_one_range():
    data = b"x" * (3 << 20) + b"\nweather today\n"
    assert cut(data, 4, 1 << 20) == [
        ByteRange(0, (3 << 20) + 1, 1),
        ByteRange((3 << 20) + 1, len(data), 2),
    ]
    assert cut(data[: 3 << 20], 4, 1 << 20) == [ByteRange(0, 3 << 20, 1)]


def test_workers_that_differ_from_the_client_are_named():
    from ocsea.cluster.connect import differences, fingerprint

    mine = fingerprint()
    assert {"ocsea", "python", "wordfreq", "pythainlp"} <= set(mine)
    other = {**mine, "ocsea": "0.1.0 (000000000000)"}
    lines = differences(mine, {"tcp://192.0.2.7:9000": other, "tcp://192.0.2.8:9000": mine})
    assert lines == [f"tcp://192.0.2.7:9000: ocsea 0.1.0 (000000000000) (here {mine['ocsea']})"]


def test_the_workers_of_a_cluster_are_checked(cluster):
    from ocsea.cluster.connect import check_workers

    _, client = cluster
    check_workers(client)  # the fixture's workers run this very ocsea: nothing to say


def test_parse_spec_takes_tls():
    spec = parse_spec("tls://10.0.0.5:8786")
    assert spec == Scheduler("tls://10.0.0.5:8786") and spec.tls
    assert not parse_spec("tcp://10.0.0.5:8786").tls
    with pytest.raises(ClusterError, match="expected tls://HOST:PORT"):
        parse_spec("tls://host")


def test_tls_without_certificates_says_which_settings_are_missing(tmp_path, monkeypatch):
    for env in connect.TLS_SETTINGS:
        monkeypatch.delenv(env, raising=False)
    path = tmp_path / "in.txt"
    path.write_text("weather today\n", encoding="utf-8")
    r = invoke(str(path), "--dask", "tls://127.0.0.1:9")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT" in r.stderr


def test_a_tls_scheduler_gives_what_a_plain_run_gives(tmp_path):
    """Mutual TLS: the scheduler takes only a client whose certificate its CA signed, and the
    texts and verdicts cross the network encrypted."""
    import dask

    sec = distributed.Security.temporary()
    path = tmp_path / "in.txt"
    path.write_text("weather today\npthc 2011\nเด็ก ม.2 ขายคลิป\n", encoding="utf-8")
    plain = invoke(str(path))
    with (
        distributed.LocalCluster(
            n_workers=1,
            processes=False,
            security=sec,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        ) as local,
        dask.config.set(
            {
                "distributed.comm.tls.ca-file": sec.tls_ca_file,
                "distributed.comm.tls.client.cert": sec.tls_client_cert,
                "distributed.comm.tls.client.key": sec.tls_client_key,
            }
        ),
    ):
        assert local.scheduler_address.startswith("tls://")
        r = invoke(str(path), "--dask", local.scheduler_address)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == plain.stdout
