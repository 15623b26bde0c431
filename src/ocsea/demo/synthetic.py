"""Synthetic demo and test data: benign generated images, a hash list built from them, a P2P
monitoring log and a search-query log. Personal data is synthetic: documentation IP ranges
(RFC 5737, RFC 3849), made-up GUIDs and session ids. Text is keyword-level (the corpus generator).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from ocsea.text.corpus import CorpusGenerator

NETWORKS = ("gnutella", "edonkey", "bittorrent")
CLIENTS = ("LimeWire/5.5", "eMule/0.50a", "qBittorrent/4.6", "Shareaza/2.7", "uTorrent/3.6")
REGIONS = ("bangkok", "chiang-mai", "khon-kaen", "phuket", "songkhla", "chon-buri")
# A made-up codeword that the demo plants in flagged queries; not a real term.
PLANTED_TERMS = ("zqvx", "kloomvip")


def doc_ip(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"2001:db8::{rng.randrange(1, 0xFFFF):x}"
    net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{net}.{rng.randrange(1, 255)}"


@dataclass
class DemoData:
    images: Path
    hash_list: Path
    p2p_log: Path
    query_log: Path
    known_sha1: list[str]


def make_images(folder: Path, n: int, seed: int = 7) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        small = (rng.random((10, 14, 3)) * 255).astype("uint8")
        p = folder / f"pattern_{i:03d}.png"
        Image.fromarray(small).resize((280, 200), Image.Resampling.BICUBIC).save(p)
        paths.append(p)
    return paths


def make_demo_data(
    root: Path, p2p_rows: int = 12_000, query_rows: int = 120_000, seed: int = 2026
) -> DemoData:
    from ocsea.media.hashing import digest_file, pdq_image

    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    images = make_images(root / "images", 24, seed)
    # The hash list: the first half of the images ("known material" stand-ins, all benign).
    known = []
    with (root / "demo-hash-list.jsonl").open("w") as fh:
        for p in images[:12]:
            d = digest_file(p)
            h = pdq_image(p)
            fh.write(json.dumps({"md5": d.md5, "sha1": d.sha1, "sha256": d.sha256, "pdq": h.hex,
                                 "pdq_quality": h.quality, "category": "1", "media_id": p.stem}) + "\n")  # fmt: skip
            known.append((d.sha1, d.md5, d.size))
    gen = CorpusGenerator(seed=seed)

    def names(label: str, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            e = gen.example(label)
            if e.kind in ("filename", "path"):
                out.append(e.text.replace("\\", "/").rsplit("/", 1)[-1])
        return out

    benign_files = [
        (n, hashlib.sha1(n.encode()).hexdigest(), rng.randrange(10**5, 10**9))
        for n in names("benign", 1500)
    ]
    adult_files = [
        (n, hashlib.sha1(n.encode()).hexdigest(), rng.randrange(10**6, 10**9))
        for n in names("adult", 300)
    ]
    flagged_files = [
        (n, hashlib.sha1(("u" + n).encode()).hexdigest(), rng.randrange(10**6, 10**9))
        for n in names("csa", 60)
    ]
    known_files = [(f"IMG_{i:04d}.png", sha1, size) for i, (sha1, _md5, size) in enumerate(known)]
    guids = [hashlib.md5(f"guid{i}".encode()).hexdigest().upper() for i in range(400)]
    bad_unknown = guids[:4]  # share suspicious-named unknown files
    bad_known = guids[4:9]  # share files on the hash list
    start = datetime(2026, 10, 1, tzinfo=UTC)
    p2p = root / "p2p-log.csv"
    with p2p.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["timestamp", "network", "ip", "port", "guid", "client", "filename", "size", "sha1"]
        )
        ip_of = {g: doc_ip(rng) for g in guids}
        for _ in range(p2p_rows):
            g = rng.choice(guids)
            r = rng.random()
            if g in bad_unknown and r < 0.5:
                f = rng.choice(flagged_files)
            elif g in bad_known and r < 0.5:
                f = rng.choice(known_files)
            elif r < 0.01:
                f = rng.choice(flagged_files)
            else:
                f = rng.choice(benign_files if rng.random() < 0.85 else adult_files)
            t = start + timedelta(seconds=rng.randrange(0, 45 * 86400))
            if rng.random() < 0.02:
                ip_of[g] = doc_ip(rng)  # IPs change over time
            w.writerow([t.isoformat(), NETWORKS[int(g[:4], 16) % 3], ip_of[g], rng.randrange(1024, 65535), g,
                        CLIENTS[int(g[:2], 16) % len(CLIENTS)], f[0], f[2], f[1]])  # fmt: skip
    # Query log: Zipf over benign, adult and flagged queries; planted terms rise in the last week.
    qgen = CorpusGenerator(seed=seed + 1)
    vocab: list[str] = []
    for label, n in (("benign", 3000), ("adult", 500), ("csa", 200)):
        made = 0
        while made < n:
            e = qgen.example(label)
            if e.kind == "query":
                vocab.append(e.text)
                made += 1
    rng.shuffle(vocab)
    flagged_q: list[str] = []
    while len(flagged_q) < 40:
        e = qgen.example("csa")
        if e.kind == "query":
            flagged_q.append(e.text)
    weights = [1 / (i + 1) ** 1.05 for i in range(len(vocab))]
    qlog = root / "query-log.csv"
    end = start + timedelta(days=45)
    with qlog.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "query", "session_id", "region"])
        picks = rng.choices(vocab, weights=weights, k=query_rows)
        for q in picks:
            t = start + timedelta(seconds=rng.randrange(0, 45 * 86400))
            if rng.random() < 0.004 + (0.02 if t > end - timedelta(days=7) else 0.0):
                q = f"{rng.choice(PLANTED_TERMS)} {rng.choice(flagged_q)}"
            w.writerow([t.isoformat(), q, f"sess-{rng.randrange(20000)}", rng.choice(REGIONS)])
    return DemoData(
        root / "images", root / "demo-hash-list.jsonl", p2p, qlog, [k[0] for k in known]
    )
