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
        warm_up(app)
        return app


def warm_up(app: Flask) -> None:
    """Compile every template, load both languages' catalogues and start an upload sandbox
    in the worker before its first request, so that the first people after a start or a
    deploy do not wait for them (20 to 40 ms per page template, 70 to 100 ms for the
    sandbox, once per worker).

    Then what the start made is set aside from the garbage collector: a full collection
    walked all of it (about 150,000 objects, 70 ms) inside whichever request set it off,
    holding the GIL, so every thread of the worker waited; the inbox's slowest requests
    under load spent 150 ms of CPU for its usual 15."""
    import gc

    from flask_babel import force_locale, get_translations

    from evidence.inspect import start_sandbox
    from merchant_portal.i18n import LANGUAGE_NAMES

    start_sandbox()

    environment = app.jinja_env
    for name in environment.list_templates(extensions=("html", "txt")):
        environment.get_template(name)
    with app.test_request_context():
        for locale in LANGUAGE_NAMES:
            with force_locale(locale):
                get_translations()
    gc.collect()
    gc.freeze()


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
