"""Signing in and out, the language switch, and the user's own account page."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user

from appeals import accounts
from appeals.errors import InvalidInput
from appeals.models import User
from merchant_portal.access import home_url, safe_next
from merchant_portal.database import db
from merchant_portal.forms import (
    ActionForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    PreferencesForm,
    TokenForm,
)
from merchant_portal.i18n import SESSION_LOCALE
from merchant_portal.throttle import login_throttle

bp = Blueprint("auth", __name__)
log = logging.getLogger("merchant_portal.auth")


def init_login(manager: LoginManager) -> None:
    """Load the user from the session's alternative id; stale ids mean signed out."""
    manager.login_view = "auth.login"
    manager.login_message = ""
    manager.session_protection = "basic"
    manager.user_loader(lambda token: accounts.user_for_session(db(), token))


# The language a visitor picked on the signed-out pages: at sign-in it becomes the account's.
CHOSEN_SIGNED_OUT = "locale_chosen_signed_out"


def _fresh_session() -> None:
    """Start a new session (nothing carried over at sign-in or out) but the chosen language."""
    locale = session.get(SESSION_LOCALE)
    session.clear()
    if locale:
        session[SESSION_LOCALE] = locale


def _keep_chosen_language(user: User) -> None:
    """A language picked just before signing in wins over the account's stored one."""
    chosen = session.get(CHOSEN_SIGNED_OUT)
    if chosen in accounts.SUPPORTED_LOCALES and chosen != user.locale:
        accounts.update_preferences(db(), user, locale=chosen, time_zone=user.time_zone)


@bp.get("/")
def home() -> ResponseReturnValue:
    return redirect(home_url())


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    # Failures count per address and per account: guessing one password on many accounts
    # and many passwords on one account are both slowed down.
    keys = (f"ip:{request.remote_addr}", "account:" + (form.email.data or "").strip().lower())
    wait = login_throttle().retry_after(*keys)
    if wait is not None:
        return _too_many_attempts(form, wait)
    user = accounts.authenticate(db(), form.email.data or "", form.password.data or "")
    if user is None:
        login_throttle().record_failure(*keys)
        log.info("login failed email=%r ip=%s", form.email.data, request.remote_addr)
        error = gettext("The email or password is not correct, or the account is disabled.")
        return render_template("auth/login.html", form=form, error=error), 422
    _keep_chosen_language(user)
    db().commit()
    _fresh_session()
    session.permanent = True  # bounded by PERMANENT_SESSION_LIFETIME, not the browser
    login_user(user)
    log.info("login ok user_id=%s", user.id)
    return redirect(safe_next(request.args.get("next"), home_url()))


def _too_many_attempts(form: LoginForm, wait: int) -> ResponseReturnValue:
    log.warning("login throttled email=%r ip=%s", form.email.data, request.remote_addr)
    error = ngettext(
        "Too many failed sign-in attempts. Wait %(num)d minute, then try again "
        "or ask your administrator to reset your password.",
        "Too many failed sign-in attempts. Wait %(num)d minutes, then try again "
        "or ask your administrator to reset your password.",
        max(1, -(-wait // 60)),
    )
    page = render_template("auth/login.html", form=form, error=error)
    return page, 429, {"Retry-After": str(wait)}


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        accounts.end_sessions(current_user)
        db().commit()
    logout_user()
    _fresh_session()
    flash(gettext("You are signed out."), "info")
    return redirect(home_url())


@bp.post("/language")
def language() -> ResponseReturnValue:
    form = LanguageForm()
    target = safe_next(form.next.data, home_url())
    if not form.validate_on_submit() or form.locale.data not in accounts.SUPPORTED_LOCALES:
        flash(gettext("Choose a language from the list."), "error")
        return redirect(target)
    session[SESSION_LOCALE] = form.locale.data
    if not current_user.is_authenticated:
        session[CHOSEN_SIGNED_OUT] = form.locale.data
        return redirect(target)
    accounts.update_preferences(
        db(), current_user, locale=form.locale.data, time_zone=current_user.time_zone
    )
    db().commit()
    return redirect(target)


def _account_page(status: int = 200, **forms: object) -> ResponseReturnValue:
    user: User = current_user
    context = {
        "preferences": PreferencesForm(
            prefix="pref", data={"locale": user.locale or "", "time_zone": user.time_zone}
        ),
        "password_form": PasswordChangeForm(prefix="pw", formdata=None),
        "token_form": TokenForm(prefix="token", formdata=None),
        "revoke_form": ActionForm(),
    }
    context.update(forms)
    return render_template("auth/account.html", **context), status


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    return _account_page()


@bp.post("/account/preferences")
@login_required
def preferences() -> ResponseReturnValue:
    form = PreferencesForm(prefix="pref")
    if not form.validate_on_submit():
        return _account_page(422, preferences=form)
    accounts.update_preferences(
        db(), current_user, locale=form.locale.data or None, time_zone=form.time_zone.data
    )
    db().commit()
    flash(gettext("Preferences saved."), "success")
    return redirect("/account")


@bp.post("/account/password")
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db(), current_user, form.current_password.data, form.new_password.data
            )
        except InvalidInput as error:
            getattr(form, error.field or "new_password").errors.append(
                gettext(error.message, **error.params)
            )
        else:
            db().commit()
            login_user(current_user._get_current_object())  # this browser stays signed in
            flash(gettext("Password changed. Your other sessions have been signed out."), "success")
            return redirect("/account")
    return _account_page(422, password_form=form)


@bp.post("/account/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    form = TokenForm(prefix="token")
    if not form.validate_on_submit():
        return _account_page(422, token_form=form)
    token, secret = accounts.create_api_token(db(), current_user, form.name.data)
    db().commit()
    log.info("api token created user_id=%s token_id=%s", current_user.id, token.id)
    # Shown once, in this response only: the secret is never stored or put in a cookie.
    return _account_page(201, new_token=token, new_secret=secret)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        # Revoking is idempotent; a page left open or a second click is told nothing changed.
        already = {token.id for token in current_user.tokens if token.revoked_at is not None}
        accounts.revoke_api_token(db(), current_user, token_id)
        db().commit()
        if token_id in already:
            flash(gettext("This token was already revoked; nothing changed."), "error")
        else:
            flash(gettext("Token revoked."), "success")
    return redirect("/account")
