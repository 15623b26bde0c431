"""Cross-border requests (pure): the status machine, default deadlines, and what falls due.

draft → sent → acknowledged → in_execution → completed; from sent on, a request can be refused
(with a reason, final) or postponed (with a reason; it resumes at acknowledged or in_execution).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

TYPES = ("mlat", "preservation", "emergency_disclosure", "extradition", "parallel_investigation")
DIRECTIONS = ("incoming", "outgoing")
STATUSES = ("draft", "sent", "acknowledged", "in_execution", "completed", "refused", "postponed")
TERMINAL = frozenset({"completed", "refused"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"sent"}),
    "sent": frozenset({"acknowledged", "refused", "postponed"}),
    "acknowledged": frozenset({"in_execution", "refused", "postponed"}),
    "in_execution": frozenset({"completed", "refused", "postponed"}),
    "postponed": frozenset({"acknowledged", "in_execution", "refused"}),
    "completed": frozenset(),
    "refused": frozenset(),
}
NEEDS_REASON = frozenset({"refused", "postponed"})
# When the awaited answer has come: a preservation is answered by the provider's confirmation
# (acknowledged); other requests by their execution.
ANSWERED = {"preservation": frozenset({"acknowledged", "in_execution", "completed", "refused"})}

# Days after sending by which an answer is expected (a follow-up is due), per type; and how long
# a preservation holds (18 U.S.C. § 2703(f): 90 days, renewable once by another 90). Defaults to
# adjust in ocsea.toml ([requests.due_days], [requests.expiry_days]).
DEFAULT_DUE_DAYS = {"mlat": 180, "preservation": 14, "emergency_disclosure": 2,
                    "extradition": 60, "parallel_investigation": 90}  # fmt: skip
DEFAULT_EXPIRY_DAYS = {"preservation": 90}


class RequestError(ValueError):
    pass


@dataclass(frozen=True)
class LegalRequest:
    type: str
    direction: str
    requesting_state: str
    requested_state: str
    status: str = "draft"
    central_authority: str = ""
    legal_basis: str = ""
    provider: str = ""
    reason: str = ""  # why refused / postponed
    drafted_on: date | None = None
    sent_on: date | None = None
    acknowledged_on: date | None = None
    due_on: date | None = None
    executed_on: date | None = None
    expires_on: date | None = None  # preservation: when the provider may delete
    follow_up_id: int | None = None  # the request (e.g. the MLAT) that follows a preservation
    referrals: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    notes: str = ""
    id: int | None = None

    def check(self) -> LegalRequest:
        if self.type not in TYPES:
            raise RequestError(f"type must be one of {', '.join(TYPES)}")
        if self.direction not in DIRECTIONS:
            raise RequestError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if self.status not in STATUSES:
            raise RequestError(f"status must be one of {', '.join(STATUSES)}")
        for name in ("requesting_state", "requested_state"):
            if not getattr(self, name).strip():
                raise RequestError(f"{name.replace('_', ' ')} is required")
        if self.requesting_state.strip().lower() == self.requested_state.strip().lower():
            raise RequestError("requesting and requested state are the same")
        return self


def new_request(req: LegalRequest, today: date, due_days=None, expiry_days=None) -> LegalRequest:
    """A request as first recorded: drafted today, or already sent if ``sent_on`` is given."""
    drafted = req.drafted_on or (min(today, req.sent_on) if req.sent_on else today)
    req = replace(req, drafted_on=drafted).check()
    if req.sent_on and req.sent_on < drafted:
        raise RequestError(f"sent on {req.sent_on} is before drafted on {drafted}")
    if req.status not in ("draft", "sent"):
        raise RequestError("a new request starts as draft or sent")
    if req.sent_on and req.status == "draft":
        req = replace(req, status="sent")
    if req.status == "sent":
        req = _on_sent(replace(req, sent_on=req.sent_on or today), due_days, expiry_days)
    return req


def _on_sent(req: LegalRequest, due_days=None, expiry_days=None) -> LegalRequest:
    due = {**DEFAULT_DUE_DAYS, **(due_days or {})}
    exp = {**DEFAULT_EXPIRY_DAYS, **(expiry_days or {})}
    sent = req.sent_on
    assert sent is not None
    try:
        if req.due_on is None and req.type in due:
            req = replace(req, due_on=sent + timedelta(days=due[req.type]))
        if req.expires_on is None and req.type in exp:
            req = replace(req, expires_on=sent + timedelta(days=exp[req.type]))
    except OverflowError:
        raise RequestError(f"sent on {sent}: deadlines fall outside the calendar") from None
    return req


def transition(req: LegalRequest, to: str, on: date, reason: str = "",
               due_days=None, expiry_days=None) -> LegalRequest:  # fmt: skip
    if to not in STATUSES:
        raise RequestError(f"status must be one of {', '.join(STATUSES)}")
    if to not in TRANSITIONS[req.status]:
        allowed = ", ".join(sorted(TRANSITIONS[req.status])) or "none (it is final)"
        raise RequestError(f"cannot go from {req.status} to {to}; from {req.status}: {allowed}")
    if to in NEEDS_REASON and not reason.strip():
        raise RequestError(f"{to} needs a reason")
    for name in ("drafted_on", "sent_on", "acknowledged_on"):
        earlier = getattr(req, name)
        if earlier and on < earlier:
            raise RequestError(f"{to} on {on} is before {name.replace('_on', '')} on {earlier}")
    out = replace(req, status=to, reason=reason.strip() if to in NEEDS_REASON else req.reason)
    if to == "sent":
        out = _on_sent(replace(out, sent_on=on), due_days, expiry_days)
    elif to == "acknowledged":
        out = replace(out, acknowledged_on=on)
    elif to == "completed":
        out = replace(out, executed_on=on)
    return out


def extend(req: LegalRequest, days: int) -> LegalRequest:
    if req.expires_on is None:
        raise RequestError("this request has no expiry to extend")
    if not 1 <= days <= 365:
        raise RequestError("an extension is 1 to 365 days")
    try:
        return replace(req, expires_on=req.expires_on + timedelta(days=days))
    except OverflowError:
        raise RequestError("the extension falls outside the calendar") from None


@dataclass(frozen=True)
class DueItem:
    request_id: int | None
    what: str  # overdue | due | expired | expires
    on: date
    days_left: int
    request: LegalRequest


def due(requests: list[LegalRequest], today: date, within: timedelta) -> list[DueItem]:
    """What is overdue or falls due by ``today + within``: answers awaited past their due date,
    and preservations that expire (or have expired) with no follow-up request yet."""
    horizon = today + within
    out: list[DueItem] = []
    for r in requests:
        answered = r.status in ANSWERED.get(r.type, TERMINAL)
        if not answered and r.status != "draft" and r.due_on and r.due_on <= horizon:
            what = "overdue" if r.due_on < today else "due"
            out.append(DueItem(r.id, what, r.due_on, (r.due_on - today).days, r))
        if (r.expires_on and r.status != "refused" and r.follow_up_id is None
                and r.expires_on <= horizon):  # fmt: skip
            what = "expired" if r.expires_on < today else "expires"
            out.append(DueItem(r.id, what, r.expires_on, (r.expires_on - today).days, r))
    out.sort(key=lambda d: (d.on, d.request_id or 0))
    return out
