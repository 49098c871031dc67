from decimal import Decimal

import pytest

from ledger.money import format_money, split, to_money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", "10.00"),
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),
        (Decimal("1.234"), "1.23"),
        (7, "7.00"),
    ],
)
def test_to_money_rounds_half_up(value, expected):
    assert to_money(value) == Decimal(expected)


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", "1e30", "9999999999999999.995", None])
def test_to_money_rejects_what_is_not_an_amount(value):
    with pytest.raises(ValueError):
        to_money(value)


def test_to_money_refuses_float():
    with pytest.raises(TypeError):
        to_money(0.1)


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        ("100.00", [1, 1, 1]),
        ("0.01", [1, 1]),
        ("-10.00", [3, 7]),
        ("999.99", [Decimal("0.3"), Decimal("0.7")]),
    ],
)
def test_split_parts_add_up_to_the_whole(total, weights):
    parts = split(Decimal(total), [Decimal(w) for w in weights])
    assert sum(parts) == Decimal(total)
    assert all(p == to_money(p) for p in parts)


def test_split_gives_remainder_to_the_largest_weight():
    assert split(Decimal("100.00"), [Decimal(1), Decimal(1), Decimal(1)]) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert split(Decimal("10.00"), [Decimal(1), Decimal(2)]) == [Decimal("3.33"), Decimal("6.67")]


def test_format_money():
    assert format_money(Decimal("5")) == "5.00"
