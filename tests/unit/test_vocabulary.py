"""Every value a merchant or reviewer can meet has a label, in English and in Chinese."""

from __future__ import annotations

import inspect
from enum import StrEnum

import pytest
from flask import Flask
from flask_babel import force_locale

from appeals import models, vocabulary
from merchant_portal import create_app
from merchant_portal.i18n import VOCABULARY, label
from tests.conftest import make_config

# Enums that are bookkeeping, never shown to anyone by name.
UNSHOWN = {models.BuildState, models.ImportStatus}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app(make_config(tmp_path_factory.mktemp("vocabulary")))


def shown_enums() -> set[type[StrEnum]]:
    found = set()
    for module in (models, vocabulary):
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, StrEnum) and value is not StrEnum and value not in UNSHOWN:
                found.add(value)
    return found


def test_every_shown_vocabulary_has_a_label_table() -> None:
    assert shown_enums() - {enum for enum, _table in VOCABULARY} == set()


@pytest.mark.parametrize(("enum", "table"), VOCABULARY, ids=lambda v: getattr(v, "__name__", ""))
def test_every_value_has_a_label_in_both_languages(portal: Flask, enum, table) -> None:  # type: ignore[no-untyped-def]
    assert [member for member in enum if member not in table] == []
    with portal.test_request_context():
        for member in enum:
            english = label(member)
            with force_locale("zh_Hans_CN"):
                chinese = label(member)
            assert english != member.value, f"{enum.__name__}.{member.name} shows its code"
            assert chinese != english, f"{enum.__name__}.{member.name} has no Chinese label"


def test_a_value_shared_by_two_vocabularies_keeps_its_own_label(portal: Flask) -> None:
    with portal.test_request_context():
        assert label(vocabulary.Remedy.VOID_COMPLAINT) == "Void the complaint"
        assert label(vocabulary.BuyerMeasure.VOID_COMPLAINT) == "Complaint voided"
