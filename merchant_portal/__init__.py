"""Appeal Desk merchant portal: the web application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from appeals import passwords

_PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
_SOURCE_TEMPLATES = Path(__file__).parent.parent / "templates"


def create_app(test_config: dict[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the portal: configuration, extensions, blueprints. No I/O beyond reading config.

    With `web=False` (the operator commands that serve no page: a local build, imports,
    accounts) the app has the context, the database and the wording but no blueprints,
    forms, sessions or API, so those commands start without importing the web layer.
    """
    templates = _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else _SOURCE_TEMPLATES
    app = Flask(__name__, template_folder=str(templates), instance_relative_config=True)
    from merchant_portal import config

    config.load(app, test_config)
    from merchant_portal.context import build_context

    app.extensions["appeal_desk.context"] = build_context(app.config)
    passwords.use_profile(app.config["PASSWORD_HASH_PROFILE"])
    if web:
        _register_extensions(app)
        _register_blueprints(app)
    else:
        _register_local(app)
    _register_cli(app)
    logging.getLogger("merchant_portal").setLevel(logging.INFO)
    return app


def _register_extensions(app: Flask) -> None:
    from merchant_portal import access, auth, database, i18n, security, throttle
    from merchant_portal.extensions import babel, csrf, login_manager

    database.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    throttle.init_app(app)
    login_manager.init_app(app)
    auth.init_login(login_manager)
    security.init_app(app)
    i18n.init_app(app)
    access.init_app(app)


def _register_local(app: Flask) -> None:
    from flask_babel import Babel

    from merchant_portal import database

    database.init_app(app)
    Babel(app)  # the bundle's wording; no request, so no locale selector


def _register_blueprints(app: Flask) -> None:
    from merchant_portal import (
        admin,
        appeals,
        auth,
        bundles,
        jobs,
        locker,
        merchant,
        notifications,
        orders,
        review,
    )
    from merchant_portal.api import appeals as api_appeals  # noqa: F401  (adds its routes)
    from merchant_portal.api import orders as api_orders  # noqa: F401  (adds its routes)
    from merchant_portal.api import views as api_views  # noqa: F401  (adds its routes)
    from merchant_portal.api.frame import api
    from merchant_portal.extensions import csrf

    app.register_blueprint(auth.bp)
    app.register_blueprint(merchant.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(locker.bp)
    app.register_blueprint(appeals.bp)
    app.register_blueprint(bundles.bp)
    app.register_blueprint(notifications.bp)
    notifications.init_app(app)
    jobs.init_app(app)
    app.register_blueprint(review.bp, url_prefix="/review")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    # The API authenticates with bearer tokens, never cookies, so CSRF cannot apply.
    csrf.exempt(api)
    app.register_blueprint(api, url_prefix="/api/v1")


def _register_cli(app: Flask) -> None:
    from merchant_portal.cli import register

    register(app)
