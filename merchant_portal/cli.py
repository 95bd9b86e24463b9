"""Operator commands, under `flask --app merchant_portal` and the `merchant-portal` script.

Each command imports what it uses when it runs, and the commands that serve no page run in
an app without the web layer (`create_app(web=False)`), so `--help`, a local build or an
import start without Flask's blueprints, the API, an S3 client or the HEIF decoder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from appeals.errors import DomainError
from appeals.permissions import Role
from evidence.errors import RejectedUpload

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from appeals.policies import Policies
    from merchant_portal.context import PortalContext

# Commands that serve no page, send no mail and start no job thread: they run in an app
# without the web layer. Any other command (and any added later) gets the whole portal.
LOCAL_COMMANDS = frozenset({
    "init-db", "create-shop", "create-user", "create-token", "reset-password",
    "disable-user", "import-orders", "import-complaints", "verify-audit", "build-bundle",
    "verify-bundle", "rotate-signing-key",
})  # fmt: skip


def db() -> Session:
    """The app context's session (its module, with SQLAlchemy, loads at first use)."""
    from merchant_portal.database import db as session

    return session()


def context() -> PortalContext:
    """The app's context (its module, with the bundle code, loads at first use)."""
    from merchant_portal.context import context as found

    return found()


def policies() -> Policies:
    """The app's configured rules."""
    return context().policies


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
    """Create or upgrade the database schema to the latest version.

    With PORTAL_DATABASE_OWNER_URL the migrations run as the tables' owner, and with
    PORTAL_DATABASE_APP_ROLE that owner grants the application's role (the one in
    PORTAL_DATABASE_URL) what it may do: write every table, but only read and append to
    the audit trail (PostgreSQL).
    """
    from sqlalchemy import Engine

    from appeals import migrate
    from appeals.db import make_engine

    config = current_app.config
    owner_url = config.get("DATABASE_OWNER_URL")
    bind: Any = (
        make_engine(owner_url)
        if owner_url
        else (config.get("DATABASE_BIND") or config["DATABASE_ENGINE"])
    )
    migrate.upgrade(bind)
    role = config.get("DATABASE_APP_ROLE")
    if role:
        try:
            with bind.begin() if isinstance(bind, Engine) else bind.begin_nested() as conn:
                migrate.grant_app_role(conn if isinstance(bind, Engine) else bind, role)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"Role {role} may use the portal's tables; the audit trail only to read and append."
        )
    if owner_url:
        bind.dispose()
    click.echo("Database is at the latest schema.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when shops already exist.")
@with_appcontext
def demo(if_empty: bool) -> None:
    """Load demonstration shops, users of every role, orders and complaints."""
    from sqlalchemy import func, select

    from appeals.models import Shop
    from merchant_portal.demo import DEMO_PASSWORD, load_demo

    if db().scalar(select(func.count()).select_from(Shop)):
        if if_empty:
            click.echo("Data already present; demo data not loaded.")
            return
        raise click.ClickException(
            "The database already holds shops; demo data goes only into an empty one."
        )
    from merchant_portal.locker import blob_store

    workdir = context().quarantine
    users = load_demo(db(), policies(), store=blob_store(), workdir=workdir)
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
    from appeals import accounts
    from appeals.accounts import SYSTEM

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
    from appeals import accounts
    from appeals.accounts import SYSTEM

    shop = accounts.find_shop_by_name(db(), SYSTEM, shop_name) if shop_name else None
    user = accounts.create_user(
        db(),
        SYSTEM,
        email=email,
        role=Role(role),
        password=password,
        shop=shop,
        display_name=display_name,
        time_zone=policies().time_zone,
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
    from appeals import accounts
    from appeals.accounts import SYSTEM

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
    from appeals import accounts
    from appeals.accounts import SYSTEM

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
    from appeals import accounts
    from appeals.accounts import SYSTEM

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


@click.command("import-orders")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shop", "shop_name", required=True, help="The shop the orders belong to.")
@click.option("--time-zone", default=None, help="Zone of times without one (default: platform).")
@with_appcontext
@_domain_errors_as_usage
def import_orders(path: Path, shop_name: str, time_zone: str | None) -> None:
    """Import a shop's order export (CSV or XLSX); re-importing updates by order number."""
    from appeals import accounts, order_import
    from appeals.accounts import SYSTEM
    from evidence.tables import iter_rows

    shop = accounts.find_shop_by_name(db(), SYSTEM, shop_name)
    try:
        result, linked, plan = order_import.import_stream(
            db(),
            SYSTEM,
            shop,
            iter_rows(path, policies().imports),
            time_zone=time_zone or policies().time_zone,
            fingerprint_key=context().fingerprint_key,
            filename=path.name,
        )
    except RejectedUpload as error:
        db().rollback()
        raise click.ClickException(str(error)) from None
    except DomainError:
        db().rollback()
        raise
    db().commit()
    click.echo(
        f"Read as {plan.platform.value} (header on row {plan.header_row}): {plan.rows_read} rows,"
        f" {plan.order_count} orders, {plan.skipped_rows} summary or header rows skipped."
    )
    for problem in plan.errors:
        click.echo(
            f"row {problem.row}, column {problem.column}: {problem.message % problem.params}"
        )
    click.echo(
        f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.failed} rows refused, {linked} complaints linked to their order."
    )


@click.command("import-complaints")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@_domain_errors_as_usage
def import_complaints(path: Path) -> None:
    """Record complaints from a JSON list or a CSV file; known external ids are kept."""
    from appeals import intake
    from appeals.accounts import SYSTEM

    try:
        records = intake.read_complaint_file(path, policies().imports)
    except RejectedUpload as error:
        raise click.ClickException(str(error)) from None
    result = intake.import_complaints(
        db(),
        SYSTEM,
        records,
        policy=policies().deadlines,
        time_zone=policies().time_zone,
    )
    db().commit()
    for number, message in result.errors:
        click.echo(f"record {number}: {message}")
    click.echo(
        f"{result.created} recorded, {result.existing} already known, {len(result.errors)} refused."
    )
    if result.errors:
        raise SystemExit(1)


@click.command("verify-audit")
@with_appcontext
def verify_audit() -> None:
    """Check the audit trail's hash chain and its signed checkpoints; exits 1 and names the
    entry if it was tampered with, or the checkpoint a recomputed chain contradicts."""
    from appeals import audit, checkpoints

    report = audit.verify(db())
    if not report.intact:
        click.echo(f"Audit trail BROKEN at entry {report.event_id}: {report.problem}.")
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {report.checked} entries verified.")
    found = context()
    proof = checkpoints.verify(db(), found.checkpoints, found.signing_keys.public_keys())
    if not proof.intact:
        click.echo(f"Audit trail CONTRADICTS its signed checkpoints: {proof.problem}.")
        raise SystemExit(1)
    if proof.proven_through is None:
        click.echo("No signed checkpoint yet: the chain is not proven against a rewrite.")
    else:
        click.echo(f"Proven by {proof.checked} signed checkpoints through entry "
                   f"{proof.proven_through} (signed {proof.proven_at}).")  # fmt: skip


@click.command("sweep-orphans")
@click.option("--min-age", default=3600, show_default=True, help="Seconds a blob must be old.")
@with_appcontext
def sweep_orphans(min_age: int) -> None:
    """Take over the builds of dead processes; delete blobs no row refers to, and the
    scratch that dead processes left (a living process's scratch stays, whatever its age)."""
    from appeals import builds, locker
    from evidence.storage import sweep_orphans as sweep_blobs
    from merchant_portal import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept = locker.referenced_keys(db()) | builds.published_keys(db())
    db().rollback()
    removed = sweep_blobs(context().store, kept, min_age_seconds=min_age)
    # After the blob sweep: a build taken over here publishes blobs no row names yet.
    taken = jobs.take_over_builds(app)
    removed += jobs.sweep_scratch(app, min_age)
    stale = sum(1 for found in removed if found.kind in ("quarantine", "reading work"))
    orphans = sum(1 for found in removed if found.kind == "orphan blob")
    click.echo(f"{orphans} orphan blobs removed, {stale} stale quarantine files removed.")
    for kind in ("orphan blob", "partial blob", "bundle scratch", "quarantine", "reading work"):
        of_kind = [found for found in removed if found.kind == kind]
        size = sum(found.size for found in of_kind)
        click.echo(f"  {kind}: {len(of_kind)} removed, {size} bytes")
    jobs.wait_for_threads(app)
    for build_id in taken:
        click.echo(f"build {build_id}: its process had died; taken over and run again")


@click.command("build-bundle")
@click.argument("appeal_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the bundle's PDF and ZIP into.")  # fmt: skip
@with_appcontext
@_domain_errors_as_usage
def build_bundle(appeal_id: int, out: Path) -> None:
    """Build the bundle of an appeal's latest submitted version into a folder."""
    from appeals import builds
    from appeals.bundle import build
    from appeals.models import Appeal
    from evidence import scratch
    from merchant_portal import jobs

    appeal = db().get(Appeal, appeal_id)
    if appeal is None:
        raise click.ClickException(f"No appeal with id {appeal_id}.")
    version = builds.latest_version(appeal)
    settings = jobs.settings()
    # Named for this process (evidence.scratch): `sweep-orphans` removes it at once if the
    # process is killed, never while it lives.
    folder = scratch.make_scratch_dir(settings.workdir, "by-hand")
    try:
        built = build(
            db(), version, settings.store, folder, key=settings.key, wording=settings.wording,
            profile=settings.profile, font=settings.font, time_zone=settings.time_zone,
            threads=settings.threads,
        )  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{appeal.number}-v{version.number}-bundle"
        for source, suffix in ((built.pdf, "pdf"), (built.zip, "zip")):
            target = out / f"{stem}.{suffix}"
            partial = out / f".{stem}.{suffix}.partial"
            shutil.copyfile(source, partial)
            os.replace(partial, target)  # never a half-written bundle under the real name
            click.echo(f"{target}  {target.stat().st_size} bytes")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    click.echo(f"{built.pages} pages; manifest files_sha256 {built.manifest['files_sha256']}")


@click.command("verify-bundle")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Check with this public key alone, offline: a PEM file "
              "or the JSON published at /api/v1/signing-keys.")  # fmt: skip
@with_appcontext
def verify_bundle(path: Path, public_key: Path | None) -> None:
    """Check a bundle ZIP: every file against the manifest, the manifest against its signature."""
    from appeals.bundle import Trust, verify
    from appeals.bundle.verify_offline import KeysUnreadable, load_public_keys, report

    if public_key is None:
        result = verify(path, context().bundle_trust())
    else:  # neither the database nor the portal's secret or key folder is read
        try:
            keys = load_public_keys(public_key.read_bytes())
        except KeysUnreadable as error:
            raise click.ClickException(f"{public_key}: {error}") from None
        result = verify(path, Trust(keys))
    click.echo("\n".join(report(result)))
    if not result.intact:
        raise SystemExit(1)


@click.command("rotate-signing-key")
@with_appcontext
def rotate_signing_key() -> None:
    """Make a new bundle signing key; it signs from now on, older keys stay published."""
    folder = context().signing_keys
    key = folder.rotate()
    click.echo(f"New signing key in {folder.path}; every key stays published.")
    if folder.chosen and folder.chosen != key.key_id:
        click.echo(f"PORTAL_SIGNING_KEY_ID still chooses {folder.chosen} to sign.")
    click.echo(key.key_id)


@click.command("tick")
@with_appcontext
def tick_command() -> None:
    """Close second-appeal windows, expire late drafts, send reminders and the email outbox."""
    from merchant_portal.notifications import tick

    result = tick(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(", ".join(f"{key} {value}" for key, value in result.items()))


@click.command("worker")
@click.option("--workers", default=1, show_default=True, type=int, help="Builds at once.")
@with_appcontext
def worker(workers: int) -> None:
    """Build bundles from the Redis queue (PORTAL_REDIS_URL) until stopped."""
    from merchant_portal import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if context().queue != "redis":
        raise click.ClickException(
            "The worker reads the Redis queue: set PORTAL_REDIS_URL (builds otherwise run "
            "inside the web process)."
        )
    from appeals import priority
    from merchant_portal.notifications import Ticker

    # Builds, readings and copies give way to the pages of a web process on the same
    # machine; the threads and children started from here on inherit it.
    priority.lower_this_thread(priority.BACKGROUND)
    click.echo(f"Building bundles from {app.config['REDIS_URL']} with {workers} worker(s).")

    Ticker(app).start()  # windows, reminders and the email outbox, every minute
    consumer = jobs.serve_worker(app, workers)
    jobs.take_over_builds(app)  # what a killed worker on this machine was building
    jobs.sweep_dead_scratch(app)  # and the scratch that dead processes left
    jobs.resume_background(app)  # what a stopped process left unread or without copies
    consumer.run()


@click.command("read-evidence")
@click.option("--failed", is_flag=True, help="Also read again what failed before.")
@click.option("--redo", is_flag=True, help="Read every picture again (a new reader).")
@with_appcontext
def read_evidence(failed: bool, redo: bool) -> None:
    """Read the text of pictures and scanned PDFs waiting to be read, here and now."""
    from sqlalchemy import update

    from appeals import reading
    from appeals.models import EvidenceItem, ReadingState
    from merchant_portal import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if redo:
        db().execute(
            update(EvidenceItem)
            .where(EvidenceItem.reading_state.is_not(None))
            .values(reading_state=ReadingState.QUEUED)
        )
        db().commit()
    waiting = reading.waiting(db(), include_failed=failed or redo, retake=True, limit=1_000_000)
    db().rollback()
    outcome = jobs.read_now(app, waiting, retake=True)
    click.echo(f"{outcome.read} read, {outcome.failed} could not be read.")


COMMANDS = [
    import_orders,
    import_complaints,
    verify_audit,
    sweep_orphans,
    read_evidence,
    build_bundle,
    verify_bundle,
    rotate_signing_key,
    tick_command,
    worker,
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
    """The app the running command needs: without the web layer for a local command."""
    from merchant_portal import create_app

    running = click.get_current_context(silent=True)
    return create_app(web=running is None or running.info_name not in LOCAL_COMMANDS)


class _PortalGroup(FlaskGroup):
    """The console script: its commands are its own, so naming them loads no app."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


main = _PortalGroup(
    name="merchant-portal",
    commands=COMMANDS,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="Appeal Desk merchant portal: operator commands.",
)
