"""Analysts' corrections of the network graph in the store: split a network, merge two, mark an
identifier as not identifying. Each is a row applied on every relink (``linking.link``), audited
when made and when revoked, so no rebuild or import undoes it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from ocsea.referrals.linking import Decision
from ocsea.service import audit
from ocsea.store.db import cases, entities, link_decisions

ACTIONS = ("not_identifying", "split", "merge")


class DecisionError(ValueError):
    """A correction that cannot be applied; the message says why."""


def load_decisions(conn: Connection) -> list[Decision]:
    """The decisions in force, oldest first."""
    q = (
        select(link_decisions)
        .where(link_decisions.c.revoked_at.is_(None))
        .order_by(link_decisions.c.id)
    )
    return [
        Decision(
            r.id,
            r.action,
            r.kind,
            r.value,
            frozenset(f"R:{i}" for i in r.side_a),
            frozenset(f"R:{i}" for i in r.side_b),
            r.note,
        )
        for r in conn.execute(q)
    ]


def _case_referrals(conn: Connection, key: str) -> list[int]:
    row = conn.execute(select(cases.c.referral_ids, cases.c.status, cases.c.merged_into)
                       .where(cases.c.key == key)).first()  # fmt: skip
    if row is None:
        raise DecisionError(f"no case {key!r}")
    if row.status != "open":
        raise DecisionError(f"case {key} was merged into {row.merged_into}: use that case")
    return sorted(int(i) for i in row.referral_ids)


def _add(conn: Connection, actor: str, action: str, note: str, kind: str = "", value: str = "",
         side_a: list[int] = (), side_b: list[int] = ()) -> int:  # fmt: skip
    if len(note) > 2000:
        raise DecisionError("a note is at most 2,000 characters")
    did = conn.execute(insert(link_decisions).values(
        action=action, kind=kind, value=value[:600], side_a=list(side_a), side_b=list(side_b),
        note=note, created_by=actor, created_at=datetime.now(UTC))).inserted_primary_key[0]  # fmt: skip
    audit.append(conn, actor, f"networks.{action}", str(did),
                 {"kind": kind, "value": value[:200], "side_a": list(side_a)[:100],
                  "side_b": list(side_b)[:100], "note": note[:300]})  # fmt: skip
    return int(did)


def mark_not_identifying(engine: Engine, actor: str, kind: str, raw: str, note: str = "",
                         region: str = "TH") -> int:  # fmt: skip
    """An identifier that names no one person (a shared Wi-Fi, a school gateway): never joins."""
    with engine.begin() as conn:
        # The stored form itself (a case page sends it: "eth|0x…" is no raw address), or what
        # an analyst typed, normalised as at import.
        value = raw
        known = conn.execute(select(entities.c.id).where(
            entities.c.kind == kind, entities.c.value == raw)).first()  # fmt: skip
        if known is None:
            value = normalise(kind, raw, region)
            known = conn.execute(select(entities.c.id).where(
                entities.c.kind == kind, entities.c.value == value)).first()  # fmt: skip
        if known is None:
            # A mark that matches nothing would leave the analyst believing a link is gone.
            raise DecisionError(
                f"no referral names {kind} {value!r} (as normalised from {raw[:80]!r})"
            )
        return _add(conn, actor, "not_identifying", note, kind, value)


def split_case(
    engine: Engine, actor: str, key: str, referral_ids: list[int], note: str = ""
) -> int:
    """Keep ``referral_ids`` apart from the rest of case ``key``, whatever joins them."""
    with engine.begin() as conn:
        members = _case_referrals(conn, key)
        side_a = sorted(set(referral_ids))
        stray = [i for i in side_a if i not in members]
        if stray:
            raise DecisionError(f"referrals {stray} are not in case {key} (it has {members[:20]})")
        side_b = [i for i in members if i not in side_a]
        if not side_a or not side_b:
            raise DecisionError("a split needs referrals on both sides")
        return _add(conn, actor, "split", note, side_a=side_a, side_b=side_b)


def merge_cases(engine: Engine, actor: str, keys: list[str], note: str = "") -> int:
    """Join the cases ``keys`` into one network, whatever the data says."""
    if len(set(keys)) < 2:
        raise DecisionError("a merge needs two different cases")
    with engine.begin() as conn:
        firsts = [_case_referrals(conn, k)[0] for k in keys]
        return _add(conn, actor, "merge", note, side_a=firsts[:1], side_b=firsts[1:])


def revoke(engine: Engine, actor: str, decision_id: int, may_revoke_others: bool = True) -> None:
    """Revoke a decision in force. ``may_revoke_others`` False: only its author may (the API passes
    False for investigators; supervisors and admins revoke anyone's)."""
    with engine.begin() as conn:
        row = conn.execute(select(link_decisions.c.created_by).where(
            link_decisions.c.id == decision_id)).first()  # fmt: skip
        if row is not None and not may_revoke_others and row.created_by != actor:
            audit.append(conn, actor, "networks.revoke.refused", str(decision_id),
                         {"created_by": row.created_by})  # fmt: skip
            raise PermissionError(
                f"decision {decision_id} is {row.created_by}'s: a supervisor revokes it"
            )
        got = conn.execute(update(link_decisions).where(
            link_decisions.c.id == decision_id, link_decisions.c.revoked_at.is_(None)
        ).values(revoked_by=actor, revoked_at=datetime.now(UTC)))  # fmt: skip
        if got.rowcount != 1:
            raise DecisionError(f"no decision {decision_id} in force")
        audit.append(conn, actor, "networks.revoke", str(decision_id), {})


def list_decisions(engine: Engine, include_revoked: bool = False) -> list:
    q = select(link_decisions).order_by(link_decisions.c.id)
    if not include_revoked:
        q = q.where(link_decisions.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return conn.execute(q).all()


def normalise(kind: str, raw: str, region: str = "TH") -> str:
    """An identifier as an analyst types it, in the form the documents' values take."""
    from ocsea.referrals import entities as e

    text = raw.strip()
    got: str | None
    if kind == "email":
        got = e.norm_email(text)
    elif kind == "phone":
        ph = e.norm_phone(text, region)
        got = ph.e164 if ph else None
    elif kind == "ip":
        got = e.norm_ip(text)
    elif kind == "url":
        u = e.norm_url(text)
        got = u[0] if u else None
    elif kind == "line_id":
        got = e.norm_line_id(text)
    elif kind in ("md5", "sha1", "sha256"):
        h = e.norm_hash(text)
        got = h[1] if h and h[0] == kind else None
    elif kind == "crypto":
        c = e.norm_crypto(text)
        got = f"{c[0]}|{c[1]}" if c else None
    elif kind in ("promptpay",):
        got = e.norm_promptpay(text)
    elif kind == "bank_account":
        got = e.norm_bank_account(text)
    elif kind in ("platform_id", "screen_name", "device"):
        platform, sep, ident = text.partition("|")
        norm = {"platform_id": e.norm_platform_id, "screen_name": e.norm_screen_name,
                "device": e.norm_device}[kind]  # fmt: skip
        got = norm(platform, ident) if sep else None
    elif kind == "p2p_guid":
        got = e.norm_guid(text)
    else:
        raise DecisionError(f"unknown identifier kind {kind!r}")
    if not got:
        hint = " (as platform|id)" if kind in ("platform_id", "screen_name", "device") else ""
        raise DecisionError(f"{raw[:80]!r} is not a valid {kind}{hint}")
    return got
