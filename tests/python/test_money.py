"""Money, Currency and RoundingMode from Python: exact, never float."""

from __future__ import annotations

import pickle
from decimal import Decimal

import numpy as np
import pytest

import crmkit
from crmkit import Currency, Money, RoundingMode

FLOAT_TEXT = (
    "amount: binary floating-point numbers are not accepted as money; "
    "pass a str or decimal.Decimal"
)


def test_parse_str_and_decimal_give_the_same_money():
    a = Money("12.34", "USD")
    b = Money(Decimal("12.34"), Currency.of("USD"))
    assert a == b
    assert a.amount == Decimal("12.34")
    assert a.minor_units == 1234
    assert a.currency == Currency.of("USD")
    assert a.currency.code == "USD"
    assert str(a) == "12.34 USD"
    assert repr(a) == "Money('12.34', 'USD')"


@pytest.mark.parametrize(
    ("code", "digits", "numeric", "text", "minor"),
    [
        ("JPY", 0, 392, "1234", 1234),
        ("BHD", 3, 48, "1.234", 1234),
        ("CLF", 4, 990, "1.2345", 12345),
        ("USD", 2, 840, "-0.05", -5),
    ],
)
def test_decimals_per_currency(code, digits, numeric, text, minor):
    c = Currency.of(code)
    assert (c.code, c.minor_units, c.numeric_code) == (code, digits, numeric)
    m = Money(text, code)
    assert m.minor_units == minor
    assert m.amount_string() == text
    assert Money.from_minor(minor, code) == m


@pytest.mark.parametrize("code,text", [("JPY", "1.5"), ("BHD", "1.2345"), ("USD", "12.345")])
def test_too_many_decimals_are_refused_not_rounded(code, text):
    with pytest.raises(crmkit.ValidationError) as info:
        Money(text, code)
    assert str(info.value).startswith("amount:")


def test_decimal_with_exponent_is_converted_exactly():
    assert Money(Decimal("1E+3"), "USD").minor_units == 100000
    assert Money(Decimal("0.1E-1"), "USD").minor_units == 1


@pytest.mark.parametrize("value", [12.34, float("nan"), float("inf"), np.float64(1.5), np.float32(2.5)])
def test_floats_are_refused_with_the_documented_message(value):
    with pytest.raises(crmkit.ValidationError) as info:
        Money(value, "USD")
    assert str(info.value) == FLOAT_TEXT


@pytest.mark.parametrize("value", [12, np.int64(3), True])
def test_ints_are_refused_pointing_at_from_minor(value):
    with pytest.raises(crmkit.ValidationError) as info:
        Money(value, "USD")
    assert "Money.from_minor" in str(info.value)
    assert str(info.value).startswith("amount:")


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), "NaN", "inf", "", "1e3", "1,000.00"])
def test_non_numbers_are_validation_errors(value):
    with pytest.raises(crmkit.ValidationError) as info:
        Money(value, "USD")
    assert str(info.value).startswith("amount:")


def test_unknown_currency_is_not_found_and_malformed_is_invalid():
    with pytest.raises(crmkit.NotFoundError):
        Money("1", "ZZZ")
    with pytest.raises(crmkit.ValidationError):
        Currency.of("usd!")


def test_arithmetic_and_ordering():
    a = Money("10.00", "USD")
    b = Money("0.01", "USD")
    assert a + b == Money("10.01", "USD")
    assert a - b == Money("9.99", "USD")
    assert -b == Money("-0.01", "USD")
    assert b * 3 == Money("0.03", "USD")
    assert 3 * b == Money("0.03", "USD")
    assert b < a and b <= a and a > b and a >= b and a != b
    assert hash(Money("1.50", "USD")) == hash(Money(Decimal("1.5"), "USD"))
    assert len({Money("1", "USD"), Money("1.00", "USD"), Money("1", "EUR")}) == 2


def test_multiplying_by_a_float_is_not_supported():
    with pytest.raises(TypeError):
        Money("1.00", "USD") * 1.5


def test_mixed_currencies_are_validation_errors():
    usd, eur = Money("1.00", "USD"), Money("1.00", "EUR")
    with pytest.raises(crmkit.ValidationError):
        usd + eur
    with pytest.raises(crmkit.ValidationError):
        usd - eur
    with pytest.raises(crmkit.ValidationError):
        usd < eur
    assert (usd == eur) is False


def test_multiply_rounds_once_with_the_given_mode():
    price = Money("19.99", "USD")
    assert price.multiply("0.075") == Money("1.50", "USD")  # 1.49925 -> 1.50
    assert Money("0.25", "USD").multiply("0.5") == Money("0.12", "USD")  # 0.125 half-even
    assert Money("0.25", "USD").multiply(Decimal("0.5"), RoundingMode.half_up) == Money("0.13", "USD")
    assert Money("0.25", "USD").multiply("0.5", rounding=RoundingMode.ceiling) == Money("0.13", "USD")
    assert Money("-0.25", "USD").multiply("0.5", RoundingMode.floor) == Money("-0.13", "USD")
    assert Money("1.00", "USD").multiply(3) == Money("3.00", "USD")
    with pytest.raises(crmkit.ValidationError) as info:
        price.multiply(0.075)
    assert str(info.value).startswith("rate:")


def test_allocate_adds_up_exactly():
    parts = Money("100.00", "USD").allocate(3)
    assert parts == [Money("33.34", "USD"), Money("33.33", "USD"), Money("33.33", "USD")]
    parts = Money("0.05", "USD").allocate([1, 1, 1])
    assert [p.minor_units for p in parts] == [2, 2, 1]
    parts = Money("10", "JPY").allocate([70, 30])
    assert [p.minor_units for p in parts] == [7, 3]
    with pytest.raises(crmkit.ValidationError):
        Money("1.00", "USD").allocate([])
    with pytest.raises(crmkit.ValidationError):
        Money("1.00", "USD").allocate([1, -1])


def test_minor_units_beyond_int64_are_exact_and_overflow_is_typed():
    big = 2**100 + 7
    m = Money.from_minor(big, "USD")
    assert m.minor_units == big
    assert m.amount == Decimal(f"{big // 100}.{big % 100:02d}")
    with pytest.raises(crmkit.MoneyOverflowError):
        Money.from_minor(2**130, "USD")
    top = Money.from_minor(2**126, "USD")
    with pytest.raises(crmkit.MoneyOverflowError):
        top * 4


def test_pickle_round_trips():
    m = Money("12.34", "BHD")
    assert pickle.loads(pickle.dumps(m)) == m
    assert pickle.loads(pickle.dumps(Currency.of("JPY"))) == Currency.of("JPY")


def test_rounding_mode_members_match_the_cpp_names():
    assert sorted(RoundingMode.__members__) == sorted(
        ["half_even", "half_up", "half_down", "down", "up", "floor", "ceiling"]
    )


def test_from_minor_takes_the_whole_exact_range_and_refuses_beyond_it():
    top = 2**128 - 1  # the core's range is a sign and a 128-bit magnitude
    assert crmkit.Money.from_minor(top, "USD").minor_units == top
    assert crmkit.Money.from_minor(-top, "USD").minor_units == -top
    with pytest.raises(crmkit.MoneyOverflowError) as info:
        crmkit.Money.from_minor(2**128, "USD")
    assert str(info.value) == (
        f"minor_units: {2**128} is outside the exact range (+-(2^128-1))"
    )
