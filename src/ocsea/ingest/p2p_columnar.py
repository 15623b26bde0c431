"""A P2P export chunk's plain rows in DuckDB: cleaned as the row parser cleans them, keyed as
``P2PRecord.row_key`` keys them, and summed into the epoch's file and sharer tables.

Why: the row path spends ~18 µs per P2P row in Python (parse, validate, hash the row); DuckDB does
the same work at ~1 µs, and what is left is the store's own insert cost. Exactness comes first:
text and hash fields go through the row path's cleaners once per distinct value, time stamps,
ports and sizes are converted in SQL only in their plainest form, and every other row is left to
the row parser (tests/test_p2p_columnar.py checks both paths store the same).

Tables of epoch ``e`` (each P2P chunk is an epoch of its own):
- ``p2p_items_e``: one row per file identity (``item_key``'s input), with its key, the name, SHA-1,
  MD5 and size of its first row in the file, its first and last sighting, and ``ix``;
- ``p2p_sharers_e``: one row per (network, GUID): first and last sighting, the client of its last
  row that names one, and ``ix``;
- ``p2p_ips_e``: first and last sighting of each (network, GUID, IP);
and the chunk's sightings as NumPy columns (row key, the two ``ix``, IP index, port, time as the
store's driver takes it), fetched on the reader thread so the writer only maps ``ix`` to ids.
As columns a block's ~120k sightings take ~12 MB; as Python tuples they took ~42 MB, and a few
blocks are in flight at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from ocsea.ingest.columnar import DuckChunk, clean_column, exact_epoch_sql, utc_time_sql
from ocsea.ingest.rows import clean_hash, clean_ip, clean_network, clean_text

# (field, cleaner of one value) for the text fields, in the row parser's order.
TEXT_FIELDS: list[tuple[str, Callable[[Any], Any]]] = [
    ("ip", clean_ip),
    ("network", clean_network),
    ("guid", partial(clean_text, field="guid", required=True, limit=200)),
    ("client", partial(clean_text, field="client", limit=200)),
    ("filename", partial(clean_text, field="filename", required=True, limit=1000)),
    ("sha1", partial(clean_hash, field="sha1", hex_len=40)),
    ("md5", partial(clean_hash, field="md5", hex_len=32)),
    ("ed2k", partial(clean_hash, field="ed2k", hex_len=32)),
    ("infohash", partial(clean_hash, field="infohash", hex_len=40)),
]
# Whole numbers in their plainest form (ASCII digits, no sign or padding); anything else goes to
# the row parser, which accepts more (e.g. Thai digits) and words the errors.
NUMBERS = {"port": ("[0-9]{1,5}", 65535), "size": ("[0-9]{1,18}", (1 << 63) - 1)}


def tables(epoch: int) -> tuple[str, str, str]:
    return f"p2p_items_{epoch}", f"p2p_sharers_{epoch}", f"p2p_ips_{epoch}"


@dataclass
class FastChunk:
    """What the writer needs of a chunk besides its DuckDB tables."""

    lines: Sequence[int]  # rowid → line in the file
    # Columns row_key, s_ix, i_ix (1-based), ip_ix (0: none), port (-1: none), seen (text).
    sightings: dict[str, np.ndarray]
    ips: np.ndarray  # object array: ips[ip_ix], None at 0

    def rows(self, sid: np.ndarray, iid: np.ndarray, start: int, stop: int) -> list[tuple]:
        """Sightings ``start:stop`` as insert rows, with ``sid[s_ix]`` and ``iid[i_ix]`` for ids."""
        c = {k: v[start:stop] for k, v in self.sightings.items()}
        ports = [None if p < 0 else p for p in c["port"].tolist()]
        return list(zip(c["row_key"].tolist(), sid[c["s_ix"]].tolist(), iid[c["i_ix"]].tolist(),
                        self.ips[c["ip_ix"]].tolist(), ports, c["seen"].tolist(), strict=True))  # fmt: skip

    def __len__(self) -> int:
        return len(self.sightings["row_key"])


def _number_sql(col: str | None, pattern: str, limit: int) -> str:
    if col is None:
        return "NULL::BIGINT"
    return (
        f"(CASE WHEN regexp_full_match({col}, '{pattern}') AND CAST({col} AS HUGEINT) <= {limit} "
        f"THEN CAST({col} AS BIGINT) END)"
    )


def _iso_sql(ts: str) -> str:
    """``datetime.isoformat()`` of a UTC time: microseconds only when there are any."""
    return (
        f"strftime({ts}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN strftime({ts}, '%f') = '000000' "
        f"THEN '' ELSE '.' || strftime({ts}, '%f') END || '+00:00'"
    )


def _row_key_bits_sql() -> str:
    """``P2PRecord.row_key`` as UBIGINT: the first 64 bits of SHA-256 over the fields joined by
    U+001F (``_signed_sql`` makes it the signed key)."""
    num = "CASE WHEN coalesce({0}, 0) = 0 THEN '' ELSE CAST({0} AS VARCHAR) END"  # str(x or "")
    parts = [_iso_sql("seen"), "network", "coalesce(ip, '')", num.format("port"), "guid",
             "filename", num.format("size"), "coalesce(sha1, '')", "coalesce(md5, '')",
             "coalesce(ed2k, '')", "coalesce(infohash, '')"]  # fmt: skip
    digest = "sha256(" + " || chr(31) || ".join(f"({p})" for p in parts) + ")"
    return f"CAST('0x' || substr({digest}, 1, 16) AS UBIGINT)"


def _signed_sql(u: str) -> str:
    return f"CAST(CAST({u} AS HUGEINT) - CASE WHEN {u} >= 9223372036854775808 THEN 18446744073709551616 ELSE 0 END AS BIGINT)"  # fmt: skip


# ``P2PRecord.item_identity``: a content hash when there is one, else name and size.
IDENTITY_SQL = """CASE WHEN sha1 IS NOT NULL THEN 'sha1:' || sha1
    WHEN md5 IS NOT NULL THEN 'md5:' || md5
    WHEN ed2k IS NOT NULL THEN 'ed2k:' || ed2k
    WHEN infohash IS NOT NULL THEN 'btih:' || infohash
    ELSE 'name:' || filename || chr(31) || CASE WHEN coalesce(size, 0) = 0 THEN '' ELSE CAST(size AS VARCHAR) END
    END"""


def p2p_fast(
    duck: DuckChunk, epoch: int, pos: dict[str, str], lines: Sequence[int], sqlite: bool,
    warm: Callable[[list[str]], Any] | None = None,
) -> tuple[FastChunk, list[int]]:  # fmt: skip
    """The chunk's plain rows into the epoch's tables; (summary, rowids left to the row parser).
    ``warm`` gets the chunk's file names (e.g. to fill the detector's cache off the writer)."""
    con = duck.con
    ts = pos["timestamp"]
    port_sql = _number_sql(pos.get("port"), *NUMBERS["port"])
    size_sql = _number_sql(pos.get("size"), *NUMBERS["size"])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE t AS SELECT rowid AS r, "
        f"coalesce({utc_time_sql(ts)}, {exact_epoch_sql(ts)}) AS seen, "
        f"{port_sql} AS port, {size_sql} AS size FROM c"
    )
    unplain = ["t.seen IS NULL"] + [
        f"(c.{pos[f]} IS NOT NULL AND t.{f} IS NULL)" for f in NUMBERS if f in pos
    ]
    moved = {
        r
        for (r,) in con.execute(
            f"SELECT t.r FROM c JOIN t ON t.r = c.rowid WHERE {' OR '.join(unplain)}"
        ).fetchall()
    }
    exprs: dict[str, str] = {}
    joins: list[str] = []
    for field, check in TEXT_FIELDS:
        if field not in pos:
            default = check(None)  # only network has one
            exprs[field] = "NULL::VARCHAR" if default is None else f"'{default}'"
            continue
        cleaned = clean_column(duck, pos[field], check, f"m_{field}")
        exprs[field] = cleaned.expr
        if cleaned.join:
            joins.append(cleaned.join)
        moved.update(cleaned.bad)
    duck.table("skip", {"r": "BIGINT"}, [(r,) for r in sorted(moved) or [-1]])
    fields = ", ".join(f"{e} AS {f}" for f, e in exprs.items())
    # One pass (the hash once per row): cleaned fields, then identity and key bits, then the key.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE p AS SELECT * EXCLUDE (u), {_signed_sql("u")} AS row_key
        FROM (SELECT *, {IDENTITY_SQL} AS identity, {_row_key_bits_sql()} AS u
            FROM (SELECT t.r, t.seen, t.port, t.size, {fields}
                FROM c JOIN t ON t.r = c.rowid {" ".join(joins)}
                WHERE t.r NOT IN (SELECT r FROM skip)))"""
    )
    items, sharers, ips_table = tables(epoch)
    con.execute(
        f"""CREATE TABLE {items} AS SELECT *, row_number() OVER () AS ix FROM (
            SELECT identity, sha256(identity) AS key, arg_min(filename, r) AS text,
                arg_min_null(sha1, r) AS sha1, arg_min_null(md5, r) AS md5,
                arg_min_null(size, r) AS size, min(r) AS first_r,
                min(seen) AS first_seen, max(seen) AS last_seen
            FROM p GROUP BY identity)"""
    )
    con.execute(
        f"""CREATE TABLE {sharers} AS SELECT *, row_number() OVER () AS ix FROM (
            SELECT network, guid, arg_max(client, r) FILTER (WHERE client IS NOT NULL) AS client,
                max(r) FILTER (WHERE client IS NOT NULL) AS client_r,
                min(seen) AS first_seen, max(seen) AS last_seen
            FROM p GROUP BY network, guid)"""
    )
    con.execute(
        f"""CREATE TABLE {ips_table} AS SELECT network, guid, ip, min(seen) AS first_seen,
            max(seen) AS last_seen FROM p WHERE ip IS NOT NULL GROUP BY network, guid, ip"""
    )
    # Times as each backend's driver stores a UTC time: SQLAlchemy's SQLite text, or with an
    # explicit offset for PostgreSQL (whose session time zone would otherwise apply).
    seen = "strftime(p.seen, '%Y-%m-%d %H:%M:%S.%f')" + ("" if sqlite else " || '+00:00'")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ipx AS SELECT ip, row_number() OVER () AS ix "
        "FROM (SELECT DISTINCT ip FROM p WHERE ip IS NOT NULL)"
    )
    ip_list = [None] + [ip for (ip,) in con.execute("SELECT ip FROM ipx ORDER BY ix").fetchall()]
    sightings = con.execute(
        f"""SELECT p.row_key, CAST(s.ix AS INTEGER) AS s_ix, CAST(i.ix AS INTEGER) AS i_ix,
            CAST(coalesce(x.ix, 0) AS INTEGER) AS ip_ix, coalesce(p.port, -1) AS port,
            {seen} AS seen
            FROM p JOIN {items} i ON i.identity = p.identity
            JOIN {sharers} s ON s.network = p.network AND s.guid = p.guid
            LEFT JOIN ipx x ON x.ip = p.ip"""
    ).fetchnumpy()
    con.execute("DROP TABLE p")
    ips = np.empty(len(ip_list), dtype=object)  # ip_ix → address
    ips[:] = ip_list
    if warm is not None:
        warm([t for (t,) in con.execute(f"SELECT text FROM {items}").fetchall()])
    return FastChunk(lines, sightings, ips), sorted(moved)


def drop_tables(duck: DuckChunk, epoch: int) -> None:
    for name in tables(epoch):
        duck.con.execute(f"DROP TABLE IF EXISTS {name}")
