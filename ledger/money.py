"""The one place where money is rounded and split. Money is Decimal, never float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# NUMERIC(18,2): 16 digits before the decimal point.
MAX_AMOUNT = Decimal("9999999999999999.99")


def to_money(value) -> Decimal:
    """Parse a str/int/Decimal into an amount with two decimals, half-up. Floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    # Checked before rounding too: quantize itself fails on very large numbers.
    if abs(amount) > MAX_AMOUNT or abs(amount := amount.quantize(CENT, rounding=ROUND_HALF_UP)) > MAX_AMOUNT:
        raise ValueError(f"amount out of range: {value!r}")
    return amount


def split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split total in proportion to weights; the parts add up to total exactly (remainder to the largest)."""
    total = to_money(total)
    if not weights:
        raise ValueError("split needs at least one weight")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        raise ValueError("split weights must not sum to zero")
    parts = [to_money(total * w / weight_sum) for w in weights]
    remainder = total - sum(parts, ZERO)
    if remainder:
        largest = max(range(len(weights)), key=lambda i: abs(weights[i]))
        parts[largest] += remainder
    return parts


def format_money(amount: Decimal) -> str:
    """The canonical string form used in JSON output: '1234.50'."""
    return str(to_money(amount))
