"""The production server: gunicorn, with the app built in each worker after the fork."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class PortalServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that builds the portal inside each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from merchant_portal import create_app
        from merchant_portal.jobs import sweep_dead_scratch, take_over_builds

        app = create_app()
        try:  # what a killed server left half built is taken over now, not in five minutes
            take_over_builds(app)
            sweep_dead_scratch(app)
        except Exception:
            app.logger.exception("taking over the builds of dead processes failed")
        return app


def run(*, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until interrupted."""
    PortalServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 120,
            "graceful_timeout": 10,
            # One scheduler per server, in the arbiter: deadlines, reminders, the outbox.
            "when_ready": _start_ticker,
        }
    ).run()


def _start_ticker(_server: Any) -> None:
    from merchant_portal import create_app
    from merchant_portal.notifications import Ticker

    Ticker(create_app()).start()
