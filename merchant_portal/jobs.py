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
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, gettext

from appeals import builds
from appeals.bundle import signing_key
from appeals.models import BuildState
from merchant_portal import i18n
from merchant_portal.config import policies

log = logging.getLogger("merchant_portal.jobs")
QUEUES = ("thread", "redis", "inline")
_hueys: dict[tuple[str, str], Any] = {}
_worker_app: Flask | None = None


class PortalWording:
    """The portal's own translations, English and Chinese, for the bundle's text."""

    def text(self, msgid: str, **params: Any) -> tuple[str, str]:
        return self._both(lambda: gettext(msgid, **params))

    def label(self, value: str) -> tuple[str, str]:
        def translated() -> str:
            if value in i18n.REMEDY_LABELS:
                return str(i18n.REMEDY_LABELS[value])
            for table in (i18n.EVIDENCE_KIND_LABELS, i18n.MALICIOUS_LABELS,
                          i18n.COMPLAINT_TYPE_LABELS):  # fmt: skip
                for key, name in table.items():
                    if key.value == value:
                        return str(name)
            return value

        return self._both(translated)

    @staticmethod
    def _both(produce: Any) -> tuple[str, str]:
        with force_locale("en"):
            english = str(produce())
        with force_locale("zh_Hans_CN"):
            chinese = str(produce())
        return english, chinese


def init_app(app: Flask) -> None:
    queue = app.config.get("BUNDLE_QUEUE") or ("redis" if app.config.get("REDIS_URL") else "thread")
    if queue not in QUEUES:
        raise RuntimeError(f"PORTAL_BUNDLE_QUEUE must be one of {', '.join(QUEUES)}, not {queue!r}")
    if queue == "redis" and not app.config.get("REDIS_URL"):
        raise RuntimeError("PORTAL_BUNDLE_QUEUE=redis needs PORTAL_REDIS_URL")
    app.config["BUNDLE_QUEUE"] = queue
    app.extensions["appeal_desk.jobs"] = {"lock": threading.Lock(), "executor": None}


def settings(app: Flask | None = None) -> builds.BuildSettings:
    from merchant_portal.locker import blob_store

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    return builds.BuildSettings(
        store=blob_store(),
        key=signing_key(config.get("BUNDLE_SIGNING_KEY") or config["SECRET_KEY"]),
        workdir=Path(config["DATA_DIR"]) / "bundles-work",
        wording=PortalWording(),
        profile=policies(app).budget,
        font=policies(app).bundle_font,
        threads=int(config.get("BUNDLE_THREADS", 2)),
    )


def run_now(app: Flask, build_id: int) -> BuildState:
    """Run one build in this process, inside an app context of `app`."""
    with app.app_context():
        sessions = app.extensions["appeal_desk.sessions"]
        return builds.run(sessions, build_id, settings(app))


def enqueue(build_id: int) -> None:
    """Start the build the configured way; the request goes on (except inline)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.config["BUNDLE_QUEUE"]
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
