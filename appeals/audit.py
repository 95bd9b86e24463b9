"""Writing the audit trail and proving it untouched."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select, text
from sqlalchemy.orm import Session

from appeals.clock import utcnow
from appeals.errors import N_, InvalidInput
from appeals.models import Appeal, AuditEvent, Complaint, EvidenceItem, User
from appeals.paging import Page
from appeals.permissions import Actor, Permission, require

GENESIS = "0" * 64
MOVED = N_("an entry before this one was removed, moved or inserted")
CHANGED = N_("this entry was changed after it was written")
CHECK_ACTION = "audit.verified"
# Any constant shared by all writers: on PostgreSQL they queue on it to extend the chain.
_CHAIN_LOCK = 0x41_55_44_49_54


def _canonical(event: AuditEvent) -> bytes:
    content = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "shop_id": event.shop_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()


def entry_hash(prev_hash: str, event: AuditEvent) -> str:
    """sha256 over the previous entry's hash and this entry's canonical content."""
    return hashlib.sha256(prev_hash.encode() + _canonical(event)).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    shop_id: int | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain (within the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    prev = session.scalar(select(AuditEvent.entry_hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=(now or utcnow()).replace(microsecond=0),
        actor_id=getattr(actor, "id", None),
        actor_label=str(getattr(actor, "email", "system")),
        shop_id=shop_id if shop_id is not None else getattr(obj, "shop_id", None),
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(getattr(obj, "id", "")),
        before=before,
        after=after,
        prev_hash=prev or GENESIS,
        entry_hash="",
    )
    event.entry_hash = entry_hash(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditReport:
    """The outcome of walking the chain: intact, or where and how it breaks."""

    checked: int
    problem: str | None = None
    event_id: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session: Session) -> AuditReport:
    """Walk the chain in order; an edit, deletion, swap or insertion breaks it."""
    prev = GENESIS
    checked = 0
    # In batches: a long trail is walked without holding every entry in memory at once.
    # Closed on every way out: on PostgreSQL the batches come from a server-side cursor.
    walk = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000)
    with session.scalars(walk) as events:
        for event in events:
            if event.prev_hash != prev:
                return AuditReport(checked, MOVED, event.id)
            if entry_hash(prev, event) != event.entry_hash:
                return AuditReport(checked, CHANGED, event.id)
            prev = event.entry_hash
            checked += 1
    return AuditReport(checked)


class AuditTrail:
    """The trail as a whole: what a recorded run of the chain check is about."""

    id = "chain"
    shop_id = None


@dataclass(frozen=True)
class ChainCheck:
    """The last recorded run of the chain check, and how many entries came after it."""

    at: datetime
    by: str
    report: AuditReport
    written_since: int


def check_chain(session: Session, actor: Actor) -> AuditReport:
    """Walk the whole chain now and write the result into the trail itself."""
    require(actor, Permission.ADMIN_AUDIT_READ)
    report = verify(session)
    found = {"checked": report.checked, "problem": report.problem, "event_id": report.event_id}
    record(session, actor, CHECK_ACTION, AuditTrail(), after=found)
    return report


def last_check(session: Session, actor: Actor) -> ChainCheck | None:
    """The newest recorded chain check, or None if it never ran."""
    require(actor, Permission.ADMIN_AUDIT_READ)
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == CHECK_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    found = event.after or {}
    report = AuditReport(
        int(found.get("checked") or 0), found.get("problem"), found.get("event_id")
    )
    since = session.scalar(select(func.count()).where(AuditEvent.id > event.id)) or 0
    return ChainCheck(event.occurred_at, event.actor_label, report, since)


@dataclass(frozen=True)
class AuditFilter:
    """What an admin narrowed the trail to; `since` and `until` are instants, `until` excluded."""

    case: str = ""
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def day_window(first: str, last: str, time_zone: str) -> tuple[datetime | None, datetime | None]:
    """From the start of day `first` to the end of day `last` (YYYY-MM-DD, either may be
    empty), as the days run in the given zone."""
    zone = ZoneInfo(time_zone)
    start, end = _day(first, "since"), _day(last, "until")
    if start and end and end < start:
        raise InvalidInput(N_("The end date is before the start date."), field="until")
    since = datetime.combine(start, time.min, zone) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, zone) if end else None
    return since, until


def _day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        day = None
    # The first and last years cannot be shifted into UTC, so they are refused too.
    if day is None or not 1 < day.year < 9999:
        raise InvalidInput(N_("Enter a date as YYYY-MM-DD."), field=field)
    return day


@dataclass(frozen=True)
class CaseRef:
    """The complaint an entry concerns, by the numbers people know it by."""

    complaint_id: int
    external_id: str
    appeal_number: str | None


@dataclass(frozen=True)
class AuditEntry:
    """One event with the names a reader needs: who acted and on which case."""

    event: AuditEvent
    actor_name: str
    case: CaseRef | None


def search(
    session: Session, actor: Actor, where: AuditFilter, *, page: int = 1, per_page: int = 50
) -> Page[AuditEntry]:
    """The entries matching a filter, newest first: ids from the key first, then those rows."""
    require(actor, Permission.ADMIN_AUDIT_READ)
    conditions = _conditions(where)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    ids = list(
        session.scalars(
            select(AuditEvent.id).where(*conditions).order_by(AuditEvent.id.desc())
            .limit(per_page).offset((page - 1) * per_page)
        )
    )  # fmt: skip
    rows = {e.id: e for e in session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)))}
    events = [rows[i] for i in ids]
    names, cases = _actor_names(session, events), _cases_of(session, events)
    items = [
        AuditEntry(e, names.get(e.actor_id or 0, ""), cases.get((e.object_type, e.object_id)))
        for e in events
    ]
    return Page(items=items, total=total, page=page, per_page=per_page)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(where: AuditFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.case.strip():
        found.append(_concerns_case(_like(where.case.strip())))
    if where.actor.strip():
        like = _like(where.actor.strip())
        people = select(User.id).where(
            or_(User.email.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\"))
        )
        found.append(
            or_(AuditEvent.actor_label.ilike(like, escape="\\"), AuditEvent.actor_id.in_(people))
        )
    if where.action:
        found.append(AuditEvent.action == where.action)
    if where.since is not None:
        found.append(AuditEvent.occurred_at >= where.since)
    if where.until is not None:
        found.append(AuditEvent.occurred_at < where.until)
    return found


def _concerns_case(like: str) -> ColumnElement[bool]:
    """Entries on a complaint, its appeal or its evidence, the case found by any part of a
    complaint's or an appeal's number."""
    by_appeal = select(Appeal.complaint_id).where(Appeal.number.ilike(like, escape="\\"))
    matching = or_(Complaint.external_id.ilike(like, escape="\\"), Complaint.id.in_(by_appeal))
    complaints = select(Complaint.id).where(matching)
    on, key = AuditEvent.object_type, AuditEvent.object_id
    return or_(
        and_(on == "complaint", key.in_(select(cast(Complaint.id, String)).where(matching))),
        and_(on == "appeal", key.in_(
            select(cast(Appeal.id, String)).where(Appeal.complaint_id.in_(complaints))
        )),
        and_(on == "evidenceitem", key.in_(
            select(cast(EvidenceItem.id, String)).where(EvidenceItem.complaint_id.in_(complaints))
        )),
    )  # fmt: skip


def _pairs(session: Session, query: Select[Any, Any]) -> dict[Any, Any]:
    return {key: value for key, value in session.execute(query)}


def _actor_names(session: Session, events: list[AuditEvent]) -> dict[int, str]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    return _pairs(session, select(User.id, User.display_name).where(User.id.in_(ids)))


def _ids_of(events: list[AuditEvent], object_type: str) -> set[int]:
    return {
        int(e.object_id) for e in events if e.object_type == object_type and e.object_id.isdigit()
    }


def _cases_of(session: Session, events: list[AuditEvent]) -> dict[tuple[str, str], CaseRef]:
    """The case of each entry on a complaint, an appeal or a piece of evidence still held."""
    owner = {("complaint", str(i)): i for i in _ids_of(events, "complaint")}
    for object_type, model in (("appeal", Appeal), ("evidenceitem", EvidenceItem)):
        ids = _ids_of(events, object_type)
        found = _pairs(session, select(model.id, model.complaint_id).where(model.id.in_(ids)))
        owner.update({(object_type, str(i)): c for i, c in found.items()})
    wanted = set(owner.values())
    numbers = _pairs(
        session, select(Complaint.id, Complaint.external_id).where(Complaint.id.in_(wanted))
    )
    appeals = _pairs(
        session, select(Appeal.complaint_id, Appeal.number).where(Appeal.complaint_id.in_(wanted))
    )
    cases = {c: CaseRef(c, number, appeals.get(c)) for c, number in numbers.items()}
    return {key: cases[c] for key, c in owner.items() if c in cases}
