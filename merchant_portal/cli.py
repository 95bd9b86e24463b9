"""Operator commands, under `flask --app merchant_portal` and the `merchant-portal` script."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from appeals import accounts, migrate
from appeals.accounts import SYSTEM
from appeals.errors import DomainError
from appeals.models import Shop
from appeals.permissions import Role
from merchant_portal.database import db


def _domain_errors_as_usage(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(str(error)) from None

    return wrapped


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the latest version."""
    bind = current_app.config.get("DATABASE_BIND") or current_app.config["DATABASE_ENGINE"]
    migrate.upgrade(bind)
    click.echo("Database is at the latest schema.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when shops already exist.")
@with_appcontext
def demo(if_empty: bool) -> None:
    """Load demonstration shops, users of every role, orders and complaints."""
    from merchant_portal.demo import DEMO_PASSWORD, load_demo

    if db().scalar(select(func.count()).select_from(Shop)):
        if if_empty:
            click.echo("Data already present; demo data not loaded.")
            return
        raise click.ClickException(
            "The database already holds shops; demo data goes only into an empty one."
        )
    users = load_demo(db())
    db().commit()
    click.echo(f"Demo data loaded. Every demo account uses the password: {DEMO_PASSWORD}")
    for user in users:
        shop = f"  ({user.shop.name})" if user.shop else ""
        click.echo(f"  {user.role.value:<16} {user.email}{shop}")


@click.command("create-shop")
@click.argument("name")
@with_appcontext
@_domain_errors_as_usage
def create_shop(name: str) -> None:
    """Create a shop (a tenant)."""
    shop = accounts.create_shop(db(), SYSTEM, name)
    db().commit()
    click.echo(f"Shop {shop.id}: {shop.name}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--shop", "shop_name", help="The shop of a merchant owner or staff member.")
@click.option("--password", required=True, help="The initial password (10 characters or more).")
@click.option("--name", "display_name", default="", help="The name shown in the portal.")
@with_appcontext
@_domain_errors_as_usage
def create_user(
    email: str, role: str, shop_name: str | None, password: str, display_name: str
) -> None:
    """Create an account with a role, in a shop for merchant roles."""
    shop = accounts.find_shop_by_name(db(), SYSTEM, shop_name) if shop_name else None
    user = accounts.create_user(
        db(),
        SYSTEM,
        email=email,
        role=Role(role),
        password=password,
        shop=shop,
        display_name=display_name,
    )
    db().commit()
    click.echo(f"User {user.id}: {user.email} ({user.role.value})")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="command line", help="What the token is for.")
@with_appcontext
@_domain_errors_as_usage
def create_token(email: str, name: str) -> None:
    """Issue an API token for a user; the token is printed alone on the last line."""
    user = accounts.find_user_by_email(db(), SYSTEM, email)
    _token, secret = accounts.create_api_token(db(), user, name)
    db().commit()
    click.echo(f"API token for {user.email} (shown once):")
    click.echo(secret)


@click.command("reset-password")
@click.argument("email")
@click.option("--password", required=True)
@with_appcontext
@_domain_errors_as_usage
def reset_password(email: str, password: str) -> None:
    """Set a new password; the user's sessions end."""
    user = accounts.find_user_by_email(db(), SYSTEM, email)
    accounts.reset_password(db(), SYSTEM, user, password)
    db().commit()
    click.echo(f"Password set for {user.email}; their sessions have ended.")


@click.command("disable-user")
@click.argument("email")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@with_appcontext
@_domain_errors_as_usage
def disable_user(email: str, enable: bool) -> None:
    """Disable an account (ending its sessions and tokens), or enable it again."""
    user = accounts.find_user_by_email(db(), SYSTEM, email)
    accounts.set_disabled(db(), SYSTEM, user, not enable)
    db().commit()
    click.echo(f"{user.email} is {'enabled' if enable else 'disabled'}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the portal with gunicorn (a production server, not the debug one)."""
    from merchant_portal.server import run

    run(host=host, port=port, workers=workers, threads=threads)


COMMANDS = [
    init_db,
    demo,
    create_shop,
    create_user,
    create_token,
    reset_password,
    disable_user,
    serve,
]


def register(app: Flask) -> None:
    """Add every command to `flask --app merchant_portal`."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from merchant_portal import create_app

    return create_app()


main = FlaskGroup(
    name="merchant-portal",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="Appeal Desk merchant portal: operator commands.",
)
