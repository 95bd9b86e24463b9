"""Bundle builds as jobs: who may ask, one build per version, progress, publish, retry.

`run` is the one task body, whichever queue runs it (a thread of the web process, or a
worker on another machine reading Redis). A build publishes its files to blob storage
(written whole, then renamed) before its row says ready, so nobody can download half a
bundle; a ready build is reused for every later download of the same version.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appeals import audit, checkpoints, notices
from appeals.bundle import SigningKey, Wording, build
from appeals.clock import utcnow
from appeals.db import READ_ONLY
from appeals.errors import N_, Conflict, NotFound
from appeals.models import Appeal, AppealVersion, BuildState, BundleBuild
from appeals.permissions import Actor, Permission, Role, require
from appeals.policies import BudgetProfile
from evidence import scratch
from evidence.storage import BlobStore

# A queued or running build that has not reported for this long is taken as lost (its
# process died) and is queued again on the next request. This is the fallback for owners
# on other machines: one on this machine is proven dead by its lease at once (take_over),
# and a queued build that names no owner is taken by the next start (take_over_unowned).
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3


def bundle_appeal(session: Session, actor: Actor, appeal_id: int) -> Appeal:
    """The appeal, if the actor may download its bundle: its shop's users, its reviewers."""
    require(actor, Permission.APPEAL_BUNDLE_DOWNLOAD)
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(N_("No such appeal."))
    if actor.role.is_merchant:
        allowed = appeal.shop_id == actor.shop_id
    else:
        user_id = getattr(actor, "id", None)
        allowed = (
            actor.role in (Role.REVIEWER, Role.SENIOR_REVIEWER)
            and user_id is not None
            and (user_id in (appeal.reviewer_id, appeal.first_reviewer_id))
        )
    if not allowed:
        raise NotFound(N_("No such appeal."))
    return appeal


def latest_version(appeal: Appeal) -> AppealVersion:
    if not appeal.versions:
        raise Conflict(N_("This appeal has not been submitted yet, so it has no bundle."))
    return appeal.versions[-1]


def current_build(session: Session, version: AppealVersion) -> BundleBuild | None:
    return session.scalar(select(BundleBuild).where(BundleBuild.version_id == version.id))


def request_build(
    session: Session, actor: Actor, appeal: Appeal, *, now: datetime | None = None
) -> tuple[BundleBuild, bool]:
    """The build of the appeal's latest version, and whether it must be (re)queued now."""
    version = latest_version(appeal)
    now = now or utcnow()
    found = current_build(session, version)
    if found is None:
        found = BundleBuild(
            version_id=version.id, appeal_id=appeal.id, state=BuildState.QUEUED, done=0,
            steps=0, attempts=0, report={}, requested_at=now, heartbeat_at=now,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(found)
        except IntegrityError:  # someone asked at the same moment: theirs stands
            found = current_build(session, version)
            assert found is not None
            return found, False
        audit.record(session, actor, "bundle.requested", appeal, after={"version": version.number})
        return found, True
    lost = found.state in (BuildState.QUEUED, BuildState.RUNNING) and (
        (found.heartbeat_at or found.requested_at) < now - STALE_AFTER
    )
    retry = found.state is BuildState.FAILED and found.attempts < MAX_ATTEMPTS
    if retry or lost:
        found.state, found.done, found.error = BuildState.QUEUED, 0, None
        found.requested_at = found.heartbeat_at = now
        session.flush()
        return found, True
    return found, False


@dataclass(frozen=True)
class BuildSettings:
    store: BlobStore
    key: SigningKey
    workdir: Path
    profile: BudgetProfile
    font: str | None
    time_zone: str  # the shop's, for times chat exports and traces write without one
    wording: Wording | None = None
    threads: int = 2
    checkpoints: Path | None = None  # the audit chain's signed heads, carried in manifests


def run(sessions: Callable[[], Session], build_id: int, settings: BuildSettings) -> BuildState:
    """Build one queued bundle and publish it; the task body of every queue."""
    with sessions() as session:
        found = session.get(BundleBuild, build_id)
        if found is None or found.state is BuildState.READY:
            return found.state if found else BuildState.FAILED
        owners = scratch.leases_beside(settings.workdir)
        if not _claim(session, found, scratch.hold(owners), owners):
            return found.state  # another living process is building it
        session.commit()
        version_id = found.version_id
    folder = scratch.make_scratch_dir(settings.workdir, f"bundle-{build_id}")
    last_report = 0.0

    def progress(done: int, steps: int) -> None:
        nonlocal last_report
        if time.monotonic() - last_report < 0.5 and done < steps:
            return
        last_report = time.monotonic()
        with sessions() as update:
            row = update.get_one(BundleBuild, build_id)
            row.done, row.steps, row.heartbeat_at = done, steps, utcnow()
            update.commit()

    try:
        # Building only reads: a deferred transaction that holds no write lock, so the
        # portal (and the progress updates) keep writing meanwhile.
        with sessions() as session:
            session.connection(execution_options=READ_ONLY)
            version = session.get_one(AppealVersion, version_id)
            built = build(
                session, version, settings.store, folder, key=settings.key,
                wording=settings.wording, profile=settings.profile, font=settings.font,
                time_zone=settings.time_zone, progress=progress,
                threads=settings.threads,
                audit_checkpoint=checkpoints.latest(settings.checkpoints)
                if settings.checkpoints else None,
            )  # fmt: skip
        pdf_key = settings.store.put(built.pdf)
        zip_key = settings.store.put(built.zip)
        with sessions() as session:
            row = session.get_one(BundleBuild, build_id)
            row.state, row.pdf_key, row.zip_key = BuildState.READY, pdf_key, zip_key
            row.pdf_size, row.zip_size = built.pdf.stat().st_size, built.zip.stat().st_size
            row.pages, row.report, row.finished_at = built.pages, built.report, utcnow()
            row.done = row.steps = max(row.steps, 1)
            row.error = None
            _tell_of_placeholders(session, row, built.report)
            session.commit()
            return BuildState.READY
    except Exception as error:
        with sessions() as session:
            row = session.get_one(BundleBuild, build_id)
            row.state, row.finished_at = BuildState.FAILED, utcnow()
            row.error = _describe(error)
            session.commit()
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _claim(session: Session, found: BundleBuild, owner: str, owners: Path) -> bool:
    """Mark the build running for `owner`; False if another living process holds it.

    One conditional update, so that of two processes handed the same build (a queue's
    second delivery, a takeover racing a retry) only one builds it.
    """
    if found.state is BuildState.RUNNING and found.owner not in (None, owner):
        fresh = (found.heartbeat_at or found.requested_at) >= utcnow() - STALE_AFTER
        if fresh and scratch.liveness(owners, found.owner) is not scratch.Liveness.DEAD:
            return False
    now = utcnow()
    claimed = session.execute(
        update(BundleBuild)
        .where(BundleBuild.id == found.id, BundleBuild.attempts == found.attempts,
               BundleBuild.state == found.state)
        .values(state=BuildState.RUNNING, started_at=now, heartbeat_at=now,
                attempts=found.attempts + 1, owner=owner)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if cast(CursorResult[Any], claimed).rowcount != 1:
        session.rollback()
        return False
    session.refresh(found)
    return True


def take_over(
    session: Session, owners: Path, owner: str | None, now: datetime | None = None
) -> list[int]:
    """Queue again the builds whose process is proven dead; the ids, to enqueue now.

    `owners` is the lease folder (evidence.scratch) that proves it; `owner` is the process
    that will run them from its own threads (None: a shared queue such as Redis). A build
    whose process died on each of its attempts fails instead of taking the next one down
    too. Flushes, never commits.
    """
    now = now or utcnow()
    taken = []
    found = session.execute(
        select(BundleBuild.id, BundleBuild.owner, BundleBuild.attempts).where(
            BundleBuild.state.in_((BuildState.QUEUED, BuildState.RUNNING)),
            BundleBuild.owner.is_not(None),
        )
    ).all()
    for build_id, dead, attempts in found:
        if dead is None or scratch.liveness(owners, dead) is not scratch.Liveness.DEAD:
            continue
        again = attempts < MAX_ATTEMPTS
        values: dict[str, Any] = (
            {"state": BuildState.QUEUED, "done": 0, "error": None, "owner": owner,
             "requested_at": now, "heartbeat_at": now}
            if again
            else {"state": BuildState.FAILED, "finished_at": now, "owner": None,
                  "error": f"ProcessDied: its process died on each of {attempts} attempts"}
        )  # fmt: skip
        # Conditional on the dead owner: of two starts at once, one takes each build.
        changed = session.execute(
            update(BundleBuild)
            .where(BundleBuild.id == build_id, BundleBuild.owner == dead)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult[Any], changed).rowcount == 1 and again:
            taken.append(build_id)
    session.expire_all()
    return taken


def take_over_unowned(
    session: Session, owner: str, on_the_queue: frozenset[int], now: datetime | None = None
) -> list[int]:
    """Take the queued builds no process has (the one that queued it died before handing
    it on, or a worker died between taking it off the queue and claiming it); the ids.

    `on_the_queue` are builds still waiting on a shared queue: they are left alone. Each
    build is named for `owner` by an update conditional on its having none, so that of
    two starts at once only one takes it. Flushes, never commits.
    """
    now = now or utcnow()
    unowned = session.scalars(
        select(BundleBuild.id).where(
            BundleBuild.state == BuildState.QUEUED, BundleBuild.owner.is_(None)
        )
    ).all()
    taken = []
    for build_id in unowned:
        if build_id in on_the_queue:
            continue
        changed = session.execute(
            update(BundleBuild)
            .where(BundleBuild.id == build_id, BundleBuild.state == BuildState.QUEUED,
                   BundleBuild.owner.is_(None))
            .values(owner=owner, requested_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if cast(CursorResult[Any], changed).rowcount == 1:
            taken.append(build_id)
    session.expire_all()
    return taken


def assign(session: Session, build_id: int, owner: str) -> None:
    """Name `owner` as the process that has a queued build in its own threads."""
    session.execute(
        update(BundleBuild)
        .where(BundleBuild.id == build_id, BundleBuild.state == BuildState.QUEUED)
        .values(owner=owner)
        .execution_options(synchronize_session=False)
    )


def live_owners(session: Session) -> frozenset[str]:
    """Owners named by queued and running builds (their leases stay for a takeover)."""
    return frozenset(
        session.scalars(
            select(BundleBuild.owner).where(
                BundleBuild.state.in_((BuildState.QUEUED, BuildState.RUNNING)),
                BundleBuild.owner.is_not(None),
            )
        )
    )


def _tell_of_placeholders(session: Session, row: BundleBuild, report: dict[str, Any]) -> None:
    """The shop hears of exhibits that went into its bundle as a placeholder page."""
    labels = [entry["label"] for entry in report.get("unavailable", [])]
    if labels:
        appeal = session.get_one(Appeal, row.appeal_id)
        notices.notify(
            session, notices.shop_user_ids(session, appeal.shop_id), appeal,
            "bundle_incomplete", {"labels": ", ".join(labels)}, now=utcnow(),
            dedupe=f"bundle_incomplete:{row.id}",
        )  # fmt: skip


def _describe(error: Exception) -> str:
    message = str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:2000]


def published_keys(session: Session) -> set[str]:
    """Blob keys of published bundles (kept by the orphan sweep)."""
    keys: set[str] = set()
    for pdf_key, zip_key in session.execute(select(BundleBuild.pdf_key, BundleBuild.zip_key)):
        keys.update(key for key in (pdf_key, zip_key) if key)
    return keys
