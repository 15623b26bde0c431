"""Safe viewing of evidence images on a finding's page: nothing until asked, then a small greyscale
blurred thumbnail made in memory; sharp only for the roles configured, each view audited; files
outside the evidence folders, changed since the scan, or inside archives are never read. Images
are generated patterns (benign)."""

import hashlib
import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import insert

from ocsea.ingest.rows import item_key
from ocsea.service import audit
from ocsea.service.access import add_user
from ocsea.service.app import create_app
from ocsea.store.db import findings, items, make_engine
from ocsea.web.media import MediaRefused, MediaSettings, load_evidence, thumbnail
from tests.web_client import PASSWORD, signed_in


def _pattern(path, size=(640, 480)):
    """A benign test card: coloured stripes and a checkerboard."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // w), ((x // 40 + y // 40) % 2) * 255, (y * 255 // h)], axis=-1)
    Image.fromarray(rgb.astype("uint8"), "RGB").save(path)
    return path


def _add_file_finding(conn, fid, path):
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    conn.execute(insert(items).values(id=fid, kind="file", key=item_key("sha256:" + digest),
                                      text=str(path), seen_count=0))  # fmt: skip
    conn.execute(insert(findings).values(id=fid, item_id=fid, kind="unknown-flagged", priority=5.0,
                                         status="new", breakdown={}, updated_at=datetime.now(UTC)))  # fmt: skip


@pytest.fixture
def evidence(tmp_path):
    root = tmp_path / "evidence"
    root.mkdir()
    return root


@pytest.fixture
def engine(tmp_path, evidence):
    e = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with e.begin() as conn:
        _add_file_finding(conn, 1, _pattern(evidence / "card.png"))
        _add_file_finding(conn, 2, _pattern(outside / "card.jpg"))
        changed = _pattern(evidence / "changed.png", (600, 400))
        _add_file_finding(conn, 3, changed)
        conn.execute(insert(items).values(id=4, kind="p2p_file", key="4" * 64, text="name.avi",
                                          seen_count=0))  # fmt: skip
        conn.execute(insert(findings).values(id=4, item_id=4, kind="p2p_file", priority=1.0,
                                             status="new", breakdown={}, updated_at=datetime.now(UTC)))  # fmt: skip
    _pattern(changed, (320, 240))  # replaced after the scan
    add_user(e, "ana", PASSWORD, "analyst")
    add_user(e, "sup", PASSWORD, "supervisor")
    yield e
    e.dispose()


def _csrf(html):
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


def test_nothing_is_shown_until_asked_then_blurred_greyscale_and_audited(
    engine, detector, evidence
):
    app = create_app(engine, detector, media=MediaSettings(evidence_roots=(evidence,)))
    c = signed_in(app, "ana")
    page = c.get("/findings/1").text
    assert 'id="media-show"' in page and '<img id="media-img" alt' in page
    card = page.split('id="media"', 1)[1].split("</section>", 1)[0]
    assert "src=" not in card and "/thumbnail" not in card  # nothing is fetched until asked
    assert 'id="media-sharp"' not in page  # an analyst may not unblur by default
    r = c.get("/findings/1/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "no-store"
    im = Image.open(io.BytesIO(r.content))
    assert im.mode == "L" and max(im.size) <= 256
    a = np.asarray(im, dtype=float)
    assert np.abs(np.diff(a, axis=1)).max() < 40  # the checkerboard's edges are blurred away
    assert ("media.view", "1") in [(e["action"], e["target"]) for e in audit.entries(engine)]


def test_unblurring_is_for_the_configured_roles_with_the_page_token(engine, detector, evidence):
    app = create_app(engine, detector, media=MediaSettings(evidence_roots=(evidence,)))
    ana = signed_in(app, "ana")
    token = _csrf(ana.get("/findings/1").text)
    assert (
        ana.post("/findings/1/thumbnail/sharp", headers={"X-CSRF-Token": token}).status_code == 403
    )
    sup = signed_in(app, "sup")
    page = sup.get("/findings/1").text
    assert 'id="media-sharp"' in page
    assert sup.post("/findings/1/thumbnail/sharp").status_code == 403  # no CSRF token
    r = sup.post("/findings/1/thumbnail/sharp", headers={"X-CSRF-Token": _csrf(page)})
    assert r.status_code == 200
    a = np.asarray(Image.open(io.BytesIO(r.content)), dtype=float)
    assert np.abs(np.diff(a, axis=1)).max() > 100  # sharp edges
    acts = [(e["actor"], e["action"]) for e in audit.entries(engine)]
    assert ("user:sup", "media.unblur") in acts
    assert ("user:ana", "access.denied") in acts


def test_files_outside_the_folders_changed_or_not_files_are_refused(engine, detector, evidence):
    app = create_app(engine, detector, media=MediaSettings(evidence_roots=(evidence,)))
    c = signed_in(app, "ana")
    r = c.get("/findings/2/thumbnail")
    assert r.status_code == 422 and "outside the evidence folders" in r.text
    r = c.get("/findings/3/thumbnail")
    assert r.status_code == 422 and "changed since it was scanned" in r.text
    assert c.get("/findings/4/thumbnail").status_code == 404
    assert 'id="media"' not in c.get("/findings/4").text  # a P2P name has no file to show


def test_no_media_mode_removes_thumbnails(engine, detector, evidence):
    app = create_app(engine, detector, media=MediaSettings(mode="off", evidence_roots=(evidence,)))
    c = signed_in(app, "ana")
    assert 'id="media"' not in c.get("/findings/1").text
    assert c.get("/findings/1/thumbnail").status_code == 404


def test_without_evidence_folders_the_page_says_what_to_configure(engine, detector):
    app = create_app(engine, detector, media=MediaSettings())
    c = signed_in(app, "ana")
    assert "evidence_roots" in c.get("/findings/1").text
    assert c.get("/findings/1/thumbnail").status_code == 404


def test_symbolic_links_and_archive_members_are_not_followed_out(tmp_path, evidence):
    secret = _pattern(tmp_path / "secret.png")
    link = evidence / "link.png"
    link.symlink_to(secret)
    key = item_key("sha256:" + hashlib.sha256(secret.read_bytes()).hexdigest())
    settings = MediaSettings(evidence_roots=(evidence,))
    with pytest.raises(MediaRefused, match="outside"):
        load_evidence(str(link), key, settings)
    (evidence / "a.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    with pytest.raises(MediaRefused, match="archive"):
        load_evidence(str(evidence / "a.zip!dir/card.png"), key, settings)
    fifo = evidence / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(MediaRefused, match="regular file"):  # would block a thread for ever
        load_evidence(str(fifo), key, settings)
    with pytest.raises(MediaRefused, match="not an image"):
        load_evidence(str(evidence / "clip.mp4"), key, settings)


def test_a_thumbnail_of_a_decompression_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("L", (20000, 20000)).save(bomb)  # 400 megapixels of nothing, a small file
    with pytest.raises(MediaRefused):
        thumbnail(bomb.read_bytes())


def test_settings_are_read_and_checked(tmp_path, monkeypatch):
    from ocsea.config import ConfigError, load_settings

    cfg = tmp_path / "ocsea.toml"
    cfg.write_text(
        '[web.media]\nmode = "blurred"\nevidence_roots = ["ev"]\nunblur_roles = ["admin"]\n'
    )
    s = load_settings(cfg)
    assert s.media.evidence_roots == (tmp_path / "ev",) and s.media.unblur_roles == {"admin"}
    monkeypatch.setenv("OCSEA_EVIDENCE_ROOTS", "/a:/b")
    assert load_settings(cfg).media.evidence_roots == (Path("/a"), Path("/b"))
    for bad in ('mode = "sharp"', 'unblur_roles = ["king"]', "evidence_roots = 3", "max_mb = 0"):
        cfg.write_text(f"[web.media]\n{bad}\n")
        with pytest.raises(ConfigError, match=r"web\.media"):
            load_settings(cfg)
