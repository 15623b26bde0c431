"""Cross-border requests: the status machine, deadlines, what is due, and the audit of changes."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from ocsea.config import ReferralSettings
from ocsea.referrals.legal_requests import (
    STATUSES,
    TERMINAL,
    TRANSITIONS,
    LegalRequest,
    RequestError,
    due,
    extend,
    new_request,
    transition,
)
from ocsea.referrals.requests_store import add, change, due_list
from ocsea.service import audit
from ocsea.store.db import audit_log, make_engine

TODAY = date(2026, 11, 23)


def req(**kw) -> LegalRequest:
    base = {
        "type": "mlat",
        "direction": "outgoing",
        "requesting_state": "Thailand",
        "requested_state": "United States",
    }
    return LegalRequest(**{**base, **kw})


def test_the_main_path_sets_its_dates():
    r = new_request(req(), TODAY)
    assert r.status == "draft" and r.drafted_on == TODAY and r.due_on is None
    r = transition(r, "sent", TODAY)
    assert r.sent_on == TODAY and r.due_on == TODAY + timedelta(days=180)
    r = transition(r, "acknowledged", TODAY + timedelta(days=3))
    r = transition(r, "in_execution", TODAY + timedelta(days=9))
    r = transition(r, "completed", TODAY + timedelta(days=40))
    assert (r.acknowledged_on, r.executed_on) == (
        TODAY + timedelta(days=3),
        TODAY + timedelta(days=40),
    )


def test_preservation_expires_after_90_days_and_can_be_extended():
    r = new_request(req(type="preservation", sent_on=date(2026, 9, 1)), TODAY)
    assert (
        r.status == "sent"
        and r.drafted_on == date(2026, 9, 1)
        and r.expires_on == date(2026, 11, 30)
    )
    assert extend(r, 90).expires_on == date(2027, 2, 28)
    custom = new_request(
        req(type="preservation", sent_on=TODAY), TODAY, expiry_days={"preservation": 180}
    )
    assert custom.expires_on == TODAY + timedelta(days=180)
    with pytest.raises(RequestError, match="no expiry"):
        extend(new_request(req(), TODAY), 10)


@given(st.sampled_from(STATUSES), st.sampled_from(STATUSES))
def test_only_listed_transitions_are_allowed(src, dst):
    r = LegalRequest(
        "mlat", "outgoing", "Thailand", "Japan", status=src, drafted_on=TODAY, sent_on=TODAY
    )
    if dst in TRANSITIONS[src]:
        out = transition(r, dst, TODAY, reason="because")
        assert out.status == dst
    else:
        with pytest.raises(RequestError, match="cannot go from"):
            transition(r, dst, TODAY, reason="because")
    assert (
        not TRANSITIONS["completed"]
        and not TRANSITIONS["refused"]
        and {"completed", "refused"} == TERMINAL
    )


def test_refusal_and_postponement_need_a_reason_and_dates_cannot_go_back():
    r = new_request(req(sent_on=TODAY), TODAY)
    with pytest.raises(RequestError, match="needs a reason"):
        transition(r, "refused", TODAY)
    assert (
        transition(r, "postponed", TODAY, "awaiting translation").reason == "awaiting translation"
    )
    with pytest.raises(RequestError, match="before"):
        transition(r, "acknowledged", TODAY - timedelta(days=1))


def test_validation():
    with pytest.raises(RequestError, match="type"):
        new_request(req(type="letter"), TODAY)
    with pytest.raises(RequestError, match="same"):
        new_request(req(requested_state="thailand"), TODAY)
    with pytest.raises(RequestError, match="draft or sent"):
        new_request(req(status="completed"), TODAY)


def test_due_lists_overdue_due_and_expiring_and_follow_up_silences_a_preservation():
    mlat = new_request(req(sent_on=TODAY - timedelta(days=200)), TODAY)  # due 20 days ago
    soon = new_request(req(type="emergency_disclosure", sent_on=TODAY), TODAY)  # due in 2 days
    later = new_request(req(sent_on=TODAY), TODAY)  # due in 180 days
    pres = new_request(req(type="preservation", sent_on=TODAY - timedelta(days=80)), TODAY)
    gone = new_request(req(type="preservation", sent_on=TODAY - timedelta(days=95)), TODAY)
    items = due([mlat, soon, later, pres, gone], TODAY, timedelta(days=14))
    got = {(d.request.type, d.what, d.days_left) for d in items}
    assert ("mlat", "overdue", -20) in got and ("emergency_disclosure", "due", 2) in got
    assert ("preservation", "expires", 10) in got and ("preservation", "expired", -5) in got
    assert not any(d.request is later for d in items)
    assert [d.on for d in items] == sorted(d.on for d in items)
    followed = [
        x
        for x in due([_with(pres, follow_up_id=9)], TODAY, timedelta(days=14))
        if x.what.startswith("exp")
    ]
    assert followed == []
    done = transition(
        transition(transition(mlat, "acknowledged", TODAY), "in_execution", TODAY),
        "completed",
        TODAY,
    )
    assert not any(d.what in ("due", "overdue") for d in due([done], TODAY, timedelta(days=14)))


def _with(r, **kw):
    from dataclasses import replace

    return replace(r, **kw)


def test_store_round_trip_and_every_change_is_audited(db_url):
    engine = make_engine(db_url)
    s = ReferralSettings(due_days={"mlat": 30})
    pres = add(engine, req(type="preservation", provider="ExampleChat", sent_on=TODAY - timedelta(days=85)), "inv", s,
               today=TODAY)  # fmt: skip
    mlat = add(
        engine, req(referrals=("7100001",), entities=("crypto:trx|T1",)), "inv", s, today=TODAY
    )
    change(engine, pres.id, "inv", s, follow_up_id=mlat.id)
    change(engine, mlat.id, "sup", s, status="sent", on=TODAY)
    r = change(
        engine,
        mlat.id,
        "sup",
        s,
        status="postponed",
        on=TODAY,
        reason="central authority asked for more",
    )
    assert r.due_on == TODAY + timedelta(days=30) and r.status == "postponed"
    with pytest.raises(RequestError, match="cannot go from"):
        change(engine, mlat.id, "sup", s, status="completed")
    with pytest.raises(RequestError, match="cannot edit"):
        change(engine, mlat.id, "sup", s, status_reason="x")
    items = due_list(engine, timedelta(days=60), today=TODAY)
    # the preservation's confirmation is still awaited, but its expiry no longer matters: followed up
    assert [(d.request_id, d.what) for d in items] == [(pres.id, "overdue"), (mlat.id, "due")]
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
                            .where(audit_log.c.action.like("request.%")).order_by(audit_log.c.id)).all()  # fmt: skip
    assert [x.action for x in rows] == [
        "request.add",
        "request.add",
        "request.update",
        "request.update",
        "request.update",
    ]
    assert rows[-1].detail["changes"]["status"] == ["sent", "postponed"]
    assert rows[-1].actor == "sup"
    assert audit.verify(engine)[0]
    engine.dispose()
