"""Canonical ASCII number parsing (src.utils.numbers) and the validators built on it."""

from __future__ import annotations

import pytest

from src.data.feedback_store import validate_id, validate_rating
from src.utils.numbers import MAX_NUMBER_CHARS, parse_canonical_decimal, parse_canonical_int

LOOSE = [" 12", "12 ", "+5", "1_000", "012", "١", "４", "٣٤", "²", "12\n", "1e3", "0x10", "", "-", "--1",
         "nan", "inf", "1" + "0" * 400, "9" * (MAX_NUMBER_CHARS + 1)]


@pytest.mark.parametrize("text", LOOSE + ["5.0", "1."])
def test_loose_integers_are_refused(text):
    with pytest.raises(ValueError, match="canonical"):
        parse_canonical_int(text)


@pytest.mark.parametrize("text,value", [("0", 0), ("12", 12), ("-3", -3), ("9223372036854775807", 2**63 - 1)])
def test_canonical_integers_parse(text, value):
    assert parse_canonical_int(text) == value


@pytest.mark.parametrize("text", LOOSE + [".5", "1.", "4,5", "4.5.1"])
def test_loose_decimals_are_refused(text):
    with pytest.raises(ValueError, match="canonical"):
        parse_canonical_decimal(text)


@pytest.mark.parametrize("text,value", [("4", 4.0), ("3.5", 3.5), ("0.5", 0.5), ("-0.25", -0.25)])
def test_canonical_decimals_parse(text, value):
    assert parse_canonical_decimal(text) == value


@pytest.mark.parametrize("value", ["４", "١", " 4", 10**400, -(10**400), "4.0 "])
def test_validate_rating_refuses_loose_and_huge_values_cleanly(value):
    with pytest.raises(ValueError, match="rating") as err:
        validate_rating(value)
    assert len(str(err.value)) < 120  # never echoes a 400-digit number


@pytest.mark.parametrize("value", [" 12 ", "+5", "1_000", "١", "４", 10**400, True, 1.5])
def test_validate_id_refuses_loose_and_huge_values_cleanly(value):
    with pytest.raises(ValueError, match="user_id") as err:
        validate_id(value, "user_id")
    assert len(str(err.value)) < 120


def test_validators_accept_canonical_text_and_numbers():
    assert validate_id("12", "user_id") == validate_id(12, "user_id") == validate_id(12.0, "user_id") == 12
    assert validate_rating("4.5") == validate_rating(4.5) == 4.5
