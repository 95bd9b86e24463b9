"""WTForms forms of the portal. Labels are lazy so they follow the viewer's language."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from appeals import accounts, passwords
from appeals.errors import InvalidInput
from appeals.permissions import Role
from merchant_portal.i18n import LANGUAGE_NAMES, ROLE_LABELS

TIME_ZONES = sorted(zone for zone in available_timezones() if "/" in zone)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Sign in"))


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"), validators=[Optional()])
    time_zone = SelectField(_l("Time zone"), choices=TIME_ZONES, validators=[DataRequired()])
    submit = SubmitField(_l("Save preferences"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = [("", _l("Follow my browser")), *LANGUAGE_NAMES.items()]


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH)],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("Say where it is used, e.g. 'ERP sync'."),
    )
    submit = SubmitField(_l("Create token"))


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


class ShopForm(FlaskForm):
    name = StringField(_l("Shop name"), validators=[DataRequired(), Length(min=2, max=120)])
    submit = SubmitField(_l("Create shop"))


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=80)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    shop = SelectField(_l("Shop"), coerce=int, validators=[Optional()])
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH)],
        description=_l("At least 10 characters. Share it with the person safely."),
    )
    submit = SubmitField(_l("Create user"))

    def validate_shop(self, field: SelectField) -> None:
        if self.role.data not in {role.value for role in Role}:
            return
        try:
            accounts.check_role_and_shop(Role(self.role.data), has_shop=bool(field.data))
        except InvalidInput as error:
            raise ValidationError(gettext(error.message)) from None

    def __init__(self, shops: list[tuple[int, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(role.value, label) for role, label in ROLE_LABELS.items()]
        self.shop.choices = [(0, _l("— none (platform staff) —")), *shops]


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH)],
    )
    submit = SubmitField(_l("Set password"))
