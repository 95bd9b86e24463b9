"""WTForms forms of the portal. Labels are lazy so they follow the viewer's language."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from appeals import accounts, passwords
from appeals.errors import InvalidInput
from appeals.order_import import Column, ImportPlan
from appeals.permissions import Role
from appeals.platforms import FIELDS
from appeals.rebuttal import MAX_ROWS
from merchant_portal.i18n import (
    CHANNEL_LABELS,
    COMPLAINT_TYPE_LABELS,
    DEADLINE_LABELS,
    EVIDENCE_KIND_LABELS,
    IMPORT_FIELD_LABELS,
    LANGUAGE_NAMES,
    MALICIOUS_LABELS,
    REMEDY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)
from merchant_portal.review_forms import ReviewForm

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


class ImportForm(FlaskForm):
    file = FileField(
        _l("Order export (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose a file to import."))],
        description=_l(
            "The export as the platform gives it: Taobao, Tmall, JD, Pinduoduo, Douyin, Shopify"
            " or Amazon (its tab-separated .txt too), or any table with an order number column."
        ),
    )
    submit = SubmitField(_l("Upload and preview"))


class FlagForm(FlaskForm):
    category = SelectField(_l("Why is it malicious?"), validators=[DataRequired()])
    rationale = TextAreaField(
        _l("Your reasons"),
        validators=[DataRequired(), Length(min=10, max=4000)],
        description=_l("What happened, and which records show it. Reviewers read this."),
    )
    submit = SubmitField(_l("Flag as malicious"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [(c.value, label) for c, label in MALICIOUS_LABELS.items()]


class InboxFilterForm(FlaskForm):
    """The inbox's filters, read from the query string (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Complaint or order number"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()])
    type = SelectField(_l("Type"), validators=[Optional()])
    flagged = SelectField(_l("Flag"), validators=[Optional()])
    deadline = SelectField(_l("Deadline"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), validators=[Optional()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _l("All"))]
        self.status.choices = every + [(s.value, label) for s, label in STATUS_LABELS.items()]
        self.type.choices = every + [(t.value, label) for t, label in COMPLAINT_TYPE_LABELS.items()]
        self.flagged.choices = [
            *every,
            ("yes", _l("Flagged as malicious")),
            ("no", _l("Not flagged")),
        ]
        self.deadline.choices = every + [(d.value, label) for d, label in DEADLINE_LABELS.items()]
        self.sort.choices = [
            ("deadline", _l("Deadline, soonest first")),
            ("received", _l("Received, newest first")),
        ]


class ComplaintForm(FlaskForm):
    """An admin records a complaint that reached the platform by hotline or email."""

    shop = SelectField(_l("Shop"), coerce=int, validators=[DataRequired()])
    external_id = StringField(_l("Complaint number"), validators=[DataRequired(), Length(max=64)])
    type = SelectField(_l("Type"), validators=[DataRequired()])
    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    order_number = StringField(_l("Order number"), validators=[Optional(), Length(max=64)])
    buyer_ref = StringField(_l("Buyer"), validators=[DataRequired(), Length(max=120)])
    received_at = DateTimeLocalField(
        _l("Received at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    penalty_points = IntegerField(_l("Penalty points at stake"), default=0, validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=10000)])
    submit = SubmitField(_l("Record complaint"))

    def __init__(self, shops: list[tuple[int, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.shop.choices = shops
        self.type.choices = [(t.value, label) for t, label in COMPLAINT_TYPE_LABELS.items()]
        self.channel.choices = [(c.value, label) for c, label in CHANNEL_LABELS.items()]


class EvidenceForm(FlaskForm):
    files = MultipleFileField(
        _l("Files"), validators=[FileRequired(_l("Choose at least one file."))],
        description=_l("Photos and screenshots (PNG, JPEG, WEBP, HEIC), PDF, CSV, XLSX, TXT."),
    )  # fmt: skip
    kind = SelectField(_l("What the files show"), validators=[DataRequired()])
    caption = StringField(
        _l("Caption"), validators=[Optional(), Length(max=300)],
        description=_l("One line a reviewer reads under each file."),
    )  # fmt: skip
    submit = SubmitField(_l("Upload"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, label) for k, label in EVIDENCE_KIND_LABELS.items()]


class EditEvidenceForm(FlaskForm):
    """What a file shows and its caption, changed while no submitted version cites it."""

    kind = SelectField(_l("What the file shows"), validators=[DataRequired()])
    caption = StringField(_l("Caption"), validators=[Optional(), Length(max=300)])
    keep_metadata = BooleanField(
        _l("Keep camera and location data in the copy reviewers get"),
        description=_l(
            "Leave unticked and the GPS position, camera make, model and serial numbers are "
            "taken out of every copy reviewers download; the original stays in your locker."
        ),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, label) for k, label in EVIDENCE_KIND_LABELS.items()]


class AttachForm(FlaskForm):
    """File here a file already in another complaint of the shop."""

    item_id = SelectField(_l("A file from another complaint"), coerce=int,
                          validators=[DataRequired(_l("Choose a file."))])  # fmt: skip
    submit = SubmitField(_l("Attach here too"))

    def offer(self, items: list[Any], complaint_label: Any) -> AttachForm:
        self.item_id.choices = [
            (item.id, f"{item.display_name} · {complaint_label(item)}") for item in items
        ]
        return self


class RedactForm(FlaskForm):
    boxes = TextAreaField(
        _l("Boxes to cover"),
        validators=[Optional()],
        description=_l(
            "Drag on the image to draw. Or type one box per line: left, top, width, height, "
            "in percent."
        ),
    )  # fmt: skip
    submit = SubmitField(_l("Save the redacted copy"))


class RebuttalRowForm(FlaskForm):
    class Meta:
        csrf = False  # a part of AppealForm, which carries the token

    allegation = TextAreaField(
        _l("What the complaint alleges"), validators=[Optional(), Length(max=4000)]
    )
    answer = TextAreaField(_l("Your answer"), validators=[Optional(), Length(max=4000)])
    exhibits = SelectMultipleField(
        _l("Exhibits that prove it"), coerce=int, validators=[Optional()]
    )


class AppealForm(FlaskForm):
    category = SelectField(_l("Why the complaint is malicious"), validators=[Optional()])
    statement = TextAreaField(
        _l("Statement of facts"), validators=[Optional(), Length(max=20000)],
        description=_l("What happened, in order, with dates. A reviewer reads this first."),
    )  # fmt: skip
    remedies = SelectMultipleField(_l("What you ask the platform to do"), validators=[Optional()])
    rows = FieldList(FormField(RebuttalRowForm), min_entries=1, max_entries=MAX_ROWS)
    submit = SubmitField(_l("Save draft"))

    def __init__(self, exhibits: list[tuple[int, str]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [("", _l("— choose —"))] + [
            (c.value, label) for c, label in MALICIOUS_LABELS.items()
        ]
        self.remedies.choices = list(REMEDY_LABELS.items())
        for row in self.rows:
            row.form.exhibits.choices = exhibits


class VerifyBundleForm(FlaskForm):
    bundle = FileField(
        _l("Bundle ZIP"), validators=[FileRequired(_l("Choose the bundle's ZIP file."))],
        description=_l("The ZIP as downloaded: bundle.pdf, manifest.json and originals/."),
    )  # fmt: skip
    submit = SubmitField(_l("Verify"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Why you withdraw it (optional)"), validators=[Optional(), Length(max=1000)],
        description=_l("Kept in the appeal's history; the reviewers see it."),
    )  # fmt: skip
    submit = SubmitField(_l("Withdraw the appeal"))


class ColumnsForm(ReviewForm):
    """How each column of an order export is read: one choice per column, kept for the shop."""

    plan_columns: list[Column]

    @classmethod
    def for_plan(cls, plan: ImportPlan, formdata: Any = None) -> ColumnsForm:
        choices = [("", _l("not used"))] + [
            (name, IMPORT_FIELD_LABELS.get(name, name)) for name in FIELDS
        ]
        fields = {
            f"column_{column.index}": SelectField(column.header, default=column.field or "")
            for column in plan.columns
        }
        form_class = type("PlanColumnsForm", (cls,), fields)
        form = form_class(formdata=formdata)
        form.plan_columns = plan.columns
        for column in plan.columns:
            form.field_for(column).choices = choices
        return form

    def field_for(self, column: Column) -> Any:
        return self[f"column_{column.index}"]

    def choices(self) -> dict[int, str]:
        return {column.index: self.field_for(column).data or "" for column in self.plan_columns}


class AuditFilterForm(FlaskForm):
    """The audit trail's filters, read from the query string (GET, so no CSRF token).

    The dates stay text as typed: the domain reads them in the viewer's zone and names the
    field it refuses.
    """

    class Meta:
        csrf = False

    case = StringField(
        _l("Case"), validators=[Optional(), Length(max=64)],
        description=_l("Any part of a complaint or appeal number."),
    )  # fmt: skip
    actor = StringField(
        _l("Actor"), validators=[Optional(), Length(max=254)],
        description=_l("Any part of an email address or a name."),
    )  # fmt: skip
    action = SelectField(_l("Action"), validators=[Optional()])
    since = StringField(_l("First day"), validators=[Optional()], render_kw={"type": "date"})
    until = StringField(_l("Last day"), validators=[Optional()], render_kw={"type": "date"})

    def __init__(self, actions: list[tuple[str, Any]], *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _l("All")), *actions]
