"""Amounts and dates as the ledger's country writes them (1 234,50 kr, 04.12.2026), whatever language
the page is in: the amount on the page must read like the one on the letter."""

from datetime import date
from decimal import Decimal

from django import template

from ledger.bank_accounts import bank_account_display
from ledger.money import to_money

register = template.Library()

NBSP = "\u00a0"
# country: (thousands separator, decimal mark, date format)
_LOCALE = {
    "NO": (NBSP, ",", "%d.%m.%Y"),
    "SE": (NBSP, ",", "%Y-%m-%d"),
    "DK": (".", ",", "%d.%m.%Y"),
    "FI": (NBSP, ",", "%d.%m.%Y"),
}
_SYMBOL = {"NOK": "kr", "SEK": "kr", "DKK": "kr.", "EUR": "€"}


def _country(ledger) -> str:
    return getattr(ledger, "country", ledger) or ""


def format_amount(value, country: str, currency: str = "", *, symbol: bool = True) -> str:
    if value is None or value == "":
        return ""
    amount = to_money(value if isinstance(value, Decimal) else str(value))
    thousands, decimal_mark, _ = _LOCALE.get(country, (",", ".", "%Y-%m-%d"))
    text = f"{abs(amount):,.2f}".replace(",", "\0").replace(".", decimal_mark).replace("\0", thousands)
    if amount < 0:
        text = "\u2212" + text
    if not symbol or not currency:
        return text
    return f"{text}{NBSP}{_SYMBOL.get(currency, currency)}"


@register.filter
def amount(value, ledger) -> str:
    """`{{ value|amount:ledger }}`: with the ledger's currency sign."""
    return format_amount(value, _country(ledger), getattr(ledger, "currency", ""))


@register.filter
def plain_amount(value, ledger) -> str:
    """The amount without a currency sign (what a bank's payment form takes)."""
    return format_amount(value, _country(ledger), symbol=False)


@register.filter
def day(value, ledger) -> str:
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            return value or ""
    return value.strftime(_LOCALE.get(_country(ledger), ("", "", "%Y-%m-%d"))[2])


@register.filter
def rate(value, ledger) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    return text.replace(".", ",") if _country(ledger) in _LOCALE else text


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key)


@register.filter
def account(value, ledger) -> str:
    """A bank account as people write it in the ledger's country (1234 56 78903)."""
    return bank_account_display(value, country=_country(ledger))
