"""The review's forms: the reviewer's note, question and ruling, the merchant's answer and
second appeal. Each reads its fields into the domain's input; the domain checks the rules,
and a refusal lands on the field it names, next to which the page shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from appeals import review
from appeals.errors import N_, DomainError, InvalidInput, each_refusal
from appeals.models import AppealVersion, Outcome
from appeals.rebuttal import row_labels


class ReviewForm(FlaskForm):
    """A form whose domain refusals are shown next to the field they name."""

    default_field = ""

    def refuse(self, error: DomainError) -> dict[str, str]:
        """Put each refusal on its field; the errors by field, in order, for the page."""
        errors: dict[str, str] = {}
        for each in each_refusal(error):
            name = each.field or self.default_field
            message = gettext(each.message, **each.params)
            field: Field | None = self._fields.get(name)
            if field is not None:
                field.errors = [*field.errors, message]
            errors[name] = f"{errors[name]} {message}" if name in errors else message
        return errors


class NoteForm(ReviewForm):
    default_field = "body"
    body = TextAreaField()


class QuestionForm(ReviewForm):
    default_field = "question"
    question = TextAreaField()
    due_at = StringField()  # datetime-local, in the reviewer's zone; empty: the policy's default

    def due(self, time_zone: str) -> datetime | None:
        """The answer deadline as an aware datetime, or None for the policy's default."""
        value = (self.due_at.data or "").strip()
        if not value:
            return None
        try:
            naive = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(N_("Give a date and time."), field="due_at") from None
        return naive.replace(tzinfo=ZoneInfo(time_zone))


class _NewInformation(ReviewForm):
    evidence = SelectMultipleField(coerce=int, validate_choice=False)

    def evidence_ids(self) -> list[int]:
        return [int(value) for value in self.evidence.data or []]


class AnswerForm(_NewInformation):
    """The merchant answers an open question, with new locker files."""

    default_field = "answer"
    answer = TextAreaField()


class ReappealForm(_NewInformation):
    """The merchant appeals a first ruling once more, with what is new."""

    default_field = "statement"
    statement = TextAreaField()


class RulingForm(ReviewForm):
    """The ruling: fields for the outcome and the texts; `for_version` adds one pair of fields
    per rebuttal row, one field per exhibit and the measures."""

    default_field = "outcome"
    # The page draws its own radio buttons: the fields read the value sent (the domain checks).
    outcome = StringField()
    rule_applied = StringField()
    summary = TextAreaField()

    @classmethod
    def for_version(cls, version: AppealVersion, **kwargs: Any) -> RulingForm:
        """The ruling form of this version's rows, exhibits and the measures."""

        class Ruling(cls):  # type: ignore[valid-type,misc]
            pass

        for row in row_labels(len(version.content["rows"])):
            setattr(Ruling, f"row_{row}", StringField())  # "accept" or "reject"
            setattr(Ruling, f"reason_{row}", TextAreaField())
        for entry in version.content["exhibits"]:
            setattr(Ruling, f"insufficient_{entry['label']}", StringField())
        for kind in review.MERCHANT_MEASURES:
            setattr(Ruling, f"m_{kind}", BooleanField())
        for kind in review.BUYER_MEASURES:
            setattr(Ruling, f"b_{kind}", BooleanField())
        for name in ("m_suspension_days", "m_fine_amount", "b_buyer_restriction_days"):
            setattr(Ruling, name, StringField())
        form: RulingForm = Ruling(**kwargs)
        form.version = version
        return form

    version: AppealVersion

    def value(self, name: str) -> Any:
        return self._fields[name].data

    def ruling_input(self) -> review.RulingInput:
        """The ruling as the domain's input (the domain checks everything)."""
        outcomes = {o.value for o in Outcome}
        content = self.version.content
        decisions = {"accept": True, "reject": False}
        findings = [
            {"row": row, "accepted": decisions.get(self.value(f"row_{row}")),
             "reason": self.value(f"reason_{row}") or ""}
            for row in row_labels(len(content["rows"]))
        ]  # fmt: skip
        insufficient = [
            {"label": entry["label"], "reason": reason}
            for entry in content["exhibits"]
            if (reason := (self.value(f"insufficient_{entry['label']}") or "").strip())
        ]
        return review.RulingInput(
            outcome=Outcome(self.outcome.data) if self.outcome.data in outcomes else None,
            findings=findings, insufficient=insufficient,
            rule_applied=self.rule_applied.data or "", merchant_measures=self._measures("m"),
            buyer_measures=self._measures("b"), summary=self.summary.data or "",
        )  # fmt: skip

    def _measures(self, side: str) -> list[dict[str, Any]]:
        kinds = review.MERCHANT_MEASURES if side == "m" else review.BUYER_MEASURES
        chosen: list[dict[str, Any]] = []
        for kind in kinds:
            if not self.value(f"{side}_{kind}"):
                continue
            measure: dict[str, Any] = {"kind": str(kind)}
            if f"{side}_{kind}_days" in self._fields:
                measure["days"] = _whole_number(self.value(f"{side}_{kind}_days"))
            if f"{side}_{kind}_amount" in self._fields:
                measure["amount"] = self.value(f"{side}_{kind}_amount") or ""
            chosen.append(measure)
        return chosen


def _whole_number(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None
