"""What the ledger's endpoints share: money fields, input validation, the formats of amounts and dates."""

from decimal import Decimal

from rest_framework import serializers

CENT = Decimal("0.01")


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def positive_money(**kwargs) -> serializers.DecimalField:
    return money(min_value=Decimal("0.01"), **kwargs)


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
