"""Background bundle builds: one task, three ways to run it.

`PORTAL_BUNDLE_QUEUE` chooses:

- `thread` (the default without Redis): a background thread of the web process;
- `redis` (the default when `PORTAL_REDIS_URL` is set): a huey queue on Redis, built by
  `merchant-portal worker` processes on any machine;
- `inline`: built within the request that asks (small sites, and the CLI).

Whichever runs it, the task body is `appeals.builds.run`, with the same settings.

Reading the text of new pictures (appeals.reading) goes the same way, on a queue of its
own so that a build never waits behind a reading: a second background thread, the huey
task `read_evidence`, or inline. `PORTAL_READ_EVIDENCE=0` turns reading off.

The smaller copies of new pictures that a bundle's fit is likely to take (appeals.fit_copies)
are made the same way, on a third thread (at the lowest CPU priority: uploads come first),
the huey task `prepare_copies` or inline; on their own, whatever becomes of the reading.
`PORTAL_PREPARE_COPIES=0` turns them off: a build then encodes what it needs. What a
process left unread or without copies when it stopped is queued again by the next start
(`resume_background`: a worker's start, or a web process's first request with the thread
queue).

A build names the process that has it (queued in its threads, or running): every server
and worker start, and `sweep-orphans`, take over at once the builds of a process that
died on this machine (`take_over_builds`), and the queued builds that name no process and
are not waiting on the Redis queue (their process died before handing them on); the
five-minute stale timeout of `appeals.builds` remains for processes on other machines.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from appeals import builds, fit_copies, priority, reading
from appeals.models import BuildState
from evidence import scratch
from merchant_portal.context import context
from merchant_portal.i18n import PortalWording

log = logging.getLogger("merchant_portal.jobs")
_hueys: dict[tuple[str, str], Any] = {}
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    app.extensions["appeal_desk.jobs"] = {
        "lock": threading.Lock(), "resumed": False, **dict.fromkeys(LANES),
    }  # fmt: skip

    @app.before_request
    def resume_once() -> None:
        # A web process that works in its own threads takes up, at its first request, what
        # was left unread or without copies (demo data, a restart); workers do so when they
        # start.
        state = app.extensions["appeal_desk.jobs"]
        if not state["resumed"] and context(app).queue == "thread":
            with state["lock"]:
                first, state["resumed"] = not state["resumed"], True
            if first:
                resume_background(app)


def settings(app: Flask | None = None) -> builds.BuildSettings:
    """How this app builds bundles: its context's store, key and rules, its wording."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = context(app)
    return builds.BuildSettings(
        store=found.store,
        key=found.signing_key,
        workdir=found.bundle_workdir,
        wording=PortalWording(),
        profile=found.policies.budget,
        font=found.policies.bundle_font,
        time_zone=found.policies.time_zone,
        threads=int(app.config.get("BUNDLE_THREADS", 2)),
        checkpoints=found.checkpoints,
    )


def run_now(app: Flask, build_id: int) -> BuildState:
    """Run one build in this process, inside an app context of `app`."""
    with app.app_context():
        sessions = app.extensions["appeal_desk.sessions"]
        return builds.run(sessions, build_id, settings(app))


def enqueue(build_id: int) -> None:
    """Start the build the configured way; the request goes on (except inline)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if context(app).queue == "thread":
        # Queued in this process's threads: if it dies before they start, the next start
        # sees a dead owner and takes the build over.
        with app.extensions["appeal_desk.sessions"]() as session:
            builds.assign(session, build_id, scratch.hold(_owners(app)))
            session.commit()
    _dispatch(app, build_id)


def take_over_builds(app: Flask) -> list[int]:
    """Queue again, and start, the builds whose process died on this machine; their ids."""
    queue = context(app).queue
    owner = None if queue == "redis" else scratch.hold(_owners(app))
    waiting = _on_redis(app) if queue == "redis" else frozenset()
    with app.extensions["appeal_desk.sessions"]() as session:
        taken = builds.take_over(session, _owners(app), owner)
        # Named for this process until a worker claims it: if this one dies first, the
        # next start proves it dead and takes the build again.
        taken += builds.take_over_unowned(session, scratch.hold(_owners(app)), waiting)
        session.commit()
    for build_id in taken:
        log.warning("bundle build %s: its process died; taken over", build_id)
        _dispatch(app, build_id)
    return taken


def _on_redis(app: Flask) -> frozenset[int]:
    """The builds waiting on this app's Redis queue (due now, or scheduled for a retry)."""
    huey = redis_huey(app.config["REDIS_URL"], app.config["BUNDLE_QUEUE_NAME"])
    return frozenset(
        int(task.args[0])
        for task in [*huey.pending(), *huey.scheduled()]
        if task.name == "build_bundle" and task.args
    )


def _owners(app: Flask) -> Path:
    """The lease folder of this app's builds (beside its bundle work folder)."""
    return scratch.leases_beside(context(app).bundle_workdir)


def _dispatch(app: Flask, build_id: int) -> None:
    _run(app, "bundle", build_id, lambda: run_now(app, build_id),
         lambda: redis_task(*_queue(app))(build_id))  # fmt: skip


# The background lanes, each with its own thread in a web process (so that a build never
# waits behind a reading) and its own huey task on the Redis queue.
LANES = ("bundle", "reading", "copies")
# The lanes nobody waits for, whose thread runs at the lowest CPU priority: fit copies
# encode what a later build may take (100-150 ms of CPU a picture), and a merchant who
# drops ten screenshots at once has the first ones' copies made while the next upload;
# at the same priority they slowed each upload's decode (bench/intake.py: screenshot
# 109-117 ms, 85-102 ms with the copies at nice 19).
POLITE_LANES = frozenset({"copies"})


def _run(
    app: Flask, lane: str, what: object, work: Callable[[], Any], on_redis: Callable[[], Any]
) -> None:
    """Run `work` the configured way: here and now (inline; a failure is logged), on this
    process's thread of `lane`, or as its huey task on the Redis queue (`on_redis`)."""
    queue = context(app).queue
    if queue == "inline":
        try:
            work()
        except Exception:
            log.exception("%s %s failed", lane, what)
    elif queue == "thread":
        state = app.extensions["appeal_desk.jobs"]
        with state["lock"]:
            if state[lane] is None:
                state[lane] = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=lane,
                    initializer=priority.lower_this_thread if lane in POLITE_LANES else None,
                    initargs=(priority.IDLE,) if lane in POLITE_LANES else (),
                )  # fmt: skip
            future: Future[Any] = state[lane].submit(work)
        future.add_done_callback(_log_failure(lane, what))
    else:
        on_redis()


def _queue(app: Flask) -> tuple[str, str]:
    return app.config["REDIS_URL"], app.config["BUNDLE_QUEUE_NAME"]


def _log_failure(lane: str, what: object) -> Callable[[Future[Any]], None]:
    def check(future: Future[Any]) -> None:
        error = future.exception()
        if error is not None:
            log.error("%s %s failed: %s", lane, what, error)

    return check


def wait_for_threads(app: Flask) -> None:
    """Let the background threads finish what they have (shutdown, and tests)."""
    state = app.extensions["appeal_desk.jobs"]
    with state["lock"]:
        executors = [state[lane] for lane in LANES]
        state.update(dict.fromkeys(LANES))
    for executor in executors:
        if executor is not None:
            executor.shutdown(wait=True)


def read_now(app: Flask, item_ids: list[int], retake: bool = False) -> reading.ReadOutcome:
    """Read items' pictures in this process (the child does the work), in an app context.

    `retake`: also items marked `reading` by a process that has died."""
    with app.app_context():
        found = context(app)
        sessions = app.extensions["appeal_desk.sessions"]
        # A folder named for this process (evidence.scratch): if it is killed midway,
        # `sweep-orphans` and the next start remove what it copied out at once.
        work = scratch.make_scratch_dir(found.data_dir / "reading-work", "reader")
        try:
            return reading.read_items(
                sessions, item_ids, found.store, work, found.policies.read_limits,
                time_zone=found.policies.time_zone, retake=retake,
            )  # fmt: skip
        finally:
            shutil.rmtree(work, ignore_errors=True)


def enqueue_reading(item_ids: list[int], retake: bool = False) -> None:
    """Read new pictures in the background, the configured way (nothing when reading is off).

    `retake`: also those a dead process left half read (a start)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not item_ids or not context(app).reads:
        return
    _run(app, "reading", item_ids, lambda: read_now(app, item_ids, retake),
         lambda: reading_task(*_queue(app))(item_ids, retake))  # fmt: skip


def prepares_copies(app: Flask) -> bool:
    """Whether this app makes fit copies after intake (PREPARE_COPIES, on by default)."""
    value = app.config.get("PREPARE_COPIES", True)
    return str(value).lower() not in ("0", "false", "no", "off")


def copies_now(app: Flask, item_ids: list[int]) -> int:
    """Make the fit copies of these items in this process; how many items got them."""
    with app.app_context():
        found = context(app)
        sessions = app.extensions["appeal_desk.sessions"]
        # Beside the reading's work, named for this process: swept at once if it dies.
        work = scratch.make_scratch_dir(found.data_dir / "reading-work", "copies")
        try:  # one commit an item, and no write lock held while encoding
            return fit_copies.make_copies(sessions, found.store, item_ids, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def enqueue_copies(item_ids: list[int]) -> None:
    """Make new pictures' fit copies in the background, the configured way (nothing when
    PREPARE_COPIES is off); a failure is logged, and the build encodes as it would."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not item_ids or not prepares_copies(app):
        return
    _run(app, "copies", item_ids, lambda: copies_now(app, item_ids),
         lambda: copies_task(*_queue(app))(item_ids))  # fmt: skip


def resume_background(app: Flask) -> tuple[int, int]:
    """Queue what is waiting to be read, or what a dead process left half read, and the
    pictures still without their fit copies (a process died before making them): a start's
    work. How many of each."""
    with app.extensions["appeal_desk.sessions"]() as session:
        unread = reading.waiting(session, retake=True) if context(app).reads else []
        uncopied = fit_copies.waiting(session) if prepares_copies(app) else []
    with app.app_context():
        enqueue_reading(unread, retake=True)
        enqueue_copies(uncopied)
    return len(unread), len(uncopied)


def redis_task(url: str, name: str) -> Any:
    """The huey task on the Redis queue `name` at `url` (created once per process)."""
    return _tasks(url, name)[1]


def reading_task(url: str, name: str) -> Any:
    """The huey task that reads pictures, on the same queue."""
    return _tasks(url, name)[2]


def copies_task(url: str, name: str) -> Any:
    """The huey task that makes fit copies, on the same queue."""
    return _tasks(url, name)[3]


def _tasks(url: str, name: str) -> Any:
    if (url, name) not in _hueys:
        from huey import RedisHuey

        huey = RedisHuey(name, url=url)
        task = huey.task(retries=1, retry_delay=5, name="build_bundle")(_worker_build)
        read = huey.task(retries=0, name="read_evidence")(_worker_read)
        copies = huey.task(retries=0, name="prepare_copies")(_worker_copies)
        _hueys[(url, name)] = (huey, task, read, copies)
    return _hueys[(url, name)]


def redis_huey(url: str, name: str) -> Any:
    return _tasks(url, name)[0]


def _worker_build(build_id: int) -> str:
    app = _worker_app
    if app is None:
        from merchant_portal import create_app

        app = create_app()
    return str(run_now(app, build_id).value)


def _worker_read(item_ids: list[int], retake: bool = False) -> int:
    app = _worker_app
    if app is None:
        from merchant_portal import create_app

        app = create_app()
    return read_now(app, item_ids, retake).read


def _worker_copies(item_ids: list[int]) -> int:
    app = _worker_app
    if app is None:
        from merchant_portal import create_app

        app = create_app()
    return copies_now(app, item_ids)


def serve_worker(app: Flask, workers: int = 1) -> Any:
    """A huey consumer for this app's Redis queue (the `worker` command, or tests)."""
    global _worker_app
    _worker_app = app
    huey = redis_huey(app.config["REDIS_URL"], app.config["BUNDLE_QUEUE_NAME"])
    return huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                check_worker_health=False)  # fmt: skip


def sweep_scratch(app: Flask, min_age_seconds: float) -> list[scratch.Removed]:
    """Remove what dead processes left in this app's work folders (see evidence.scratch).

    A living process's scratch stays whatever its age; unowned scratch goes once nothing
    in it has changed for `min_age_seconds`.
    """
    found = context(app)
    removed = [
        *found.store.sweep_partial(min_age_seconds),
        *scratch.sweep(found.bundle_workdir, "bundle scratch", min_age_seconds),
        *scratch.sweep(found.quarantine, "quarantine", min_age_seconds),
        *scratch.sweep(found.data_dir / "reading-work", "reading work", min_age_seconds),
    ]
    with app.extensions["appeal_desk.sessions"]() as session:
        named = builds.live_owners(session)  # kept for a takeover on another start
    scratch.drop_dead_leases(_owners(app), named)
    return removed


def sweep_dead_scratch(app: Flask) -> list[scratch.Removed]:
    """Remove only what processes proven dead left (a server's or worker's start): a file
    without an owner waits for `sweep-orphans` and its age."""
    return sweep_scratch(app, math.inf)
