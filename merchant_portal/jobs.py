"""Background bundle builds: one task, three ways to run it.

`PORTAL_BUNDLE_QUEUE` chooses:

- `thread` (the default without Redis): a background thread of the web process;
- `redis` (the default when `PORTAL_REDIS_URL` is set): a huey queue on Redis, built by
  `merchant-portal worker` processes on any machine;
- `inline`: built within the request that asks (small sites, and the CLI).

Whichever runs it, the task body is `appeals.builds.run`, with the same settings.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

from appeals import builds
from appeals.models import BuildState
from merchant_portal.context import context
from merchant_portal.i18n import PortalWording

log = logging.getLogger("merchant_portal.jobs")
_hueys: dict[tuple[str, str], Any] = {}
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    app.extensions["appeal_desk.jobs"] = {"lock": threading.Lock(), "executor": None}


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
    )


def run_now(app: Flask, build_id: int) -> BuildState:
    """Run one build in this process, inside an app context of `app`."""
    with app.app_context():
        sessions = app.extensions["appeal_desk.sessions"]
        return builds.run(sessions, build_id, settings(app))


def enqueue(build_id: int) -> None:
    """Start the build the configured way; the request goes on (except inline)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = context(app).queue
    if queue == "inline":
        try:
            run_now(app, build_id)
        except Exception:
            log.exception("bundle build %s failed", build_id)
    elif queue == "thread":
        state = app.extensions["appeal_desk.jobs"]
        with state["lock"]:
            if state["executor"] is None:
                state["executor"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle")
            future: Future[BuildState] = state["executor"].submit(run_now, app, build_id)
        future.add_done_callback(_log_failure(build_id))
    else:
        task = redis_task(app.config["REDIS_URL"], app.config["BUNDLE_QUEUE_NAME"])
        task(build_id)


def _log_failure(build_id: int) -> Any:
    def check(future: Future[BuildState]) -> None:
        error = future.exception()
        if error is not None:
            log.error("bundle build %s failed: %s", build_id, error)

    return check


def wait_for_threads(app: Flask) -> None:
    """Let the background thread finish what it has (shutdown, and tests)."""
    state = app.extensions["appeal_desk.jobs"]
    with state["lock"]:
        executor, state["executor"] = state["executor"], None
    if executor is not None:
        executor.shutdown(wait=True)


def redis_task(url: str, name: str) -> Any:
    """The huey task on the Redis queue `name` at `url` (created once per process)."""
    if (url, name) not in _hueys:
        from huey import RedisHuey

        huey = RedisHuey(name, url=url)
        task = huey.task(retries=1, retry_delay=5, name="build_bundle")(_worker_build)
        _hueys[(url, name)] = (huey, task)
    return _hueys[(url, name)][1]


def redis_huey(url: str, name: str) -> Any:
    redis_task(url, name)
    return _hueys[(url, name)][0]


def _worker_build(build_id: int) -> str:
    app = _worker_app
    if app is None:
        from merchant_portal import create_app

        app = create_app()
    return str(run_now(app, build_id).value)


def serve_worker(app: Flask, workers: int = 1) -> Any:
    """A huey consumer for this app's Redis queue (the `worker` command, or tests)."""
    global _worker_app
    _worker_app = app
    huey = redis_huey(app.config["REDIS_URL"], app.config["BUNDLE_QUEUE_NAME"])
    return huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                check_worker_health=False)  # fmt: skip
