"""Measures in a ruling: only known kinds, with sane days and amounts."""

from __future__ import annotations

import pytest

from appeals.errors import InvalidInput
from appeals.review import BUYER_MEASURES, MERCHANT_MEASURES, _measure


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-1", "0", "abc", None, "1e999"])
def test_a_fine_needs_a_real_positive_amount(amount: object) -> None:
    with pytest.raises(InvalidInput):
        _measure({"kind": "fine", "amount": amount}, MERCHANT_MEASURES)


@pytest.mark.parametrize("days", [0, 366, "7", None, 1.5])
def test_suspensions_and_restrictions_need_whole_days(days: object) -> None:
    with pytest.raises(InvalidInput):
        _measure({"kind": "suspension", "days": days}, MERCHANT_MEASURES)
    with pytest.raises(InvalidInput):
        _measure({"kind": "buyer_restriction", "days": days}, BUYER_MEASURES)


def test_measures_are_kept_as_given_and_unknown_kinds_refused() -> None:
    assert _measure({"kind": "fine", "amount": "200"}, MERCHANT_MEASURES) == {
        "kind": "fine", "amount": "200.00"}  # fmt: skip
    assert _measure({"kind": "suspension", "days": 7}, MERCHANT_MEASURES) == {
        "kind": "suspension", "days": 7}  # fmt: skip
    with pytest.raises(InvalidInput):
        _measure({"kind": "void_complaint"}, MERCHANT_MEASURES)  # a buyer measure
    with pytest.raises(InvalidInput):
        _measure({"kind": "jail"}, BUYER_MEASURES)
