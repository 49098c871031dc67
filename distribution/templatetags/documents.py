"""Amount and date formats on documents, by the document's language."""

from datetime import date
from decimal import Decimal

from django import template
from django.utils.safestring import mark_safe

from ledger.money import to_money

register = template.Library()


@register.filter
def money(value, language="en") -> str:
    """1 234,50 in the Nordic languages, 1,234.50 in English. Plain spaces: they survive text extraction."""
    if value is None or value == "":
        return ""
    amount = to_money(value if isinstance(value, Decimal) else str(value))
    grouped = f"{amount:,.2f}"
    if language == "en":
        return grouped
    return grouped.replace(",", " ").replace(".", ",")


@register.filter
def day(value, language="en") -> str:
    if not isinstance(value, date):
        return value or ""
    if language in ("nb", "da"):
        return value.strftime("%d.%m.%Y")
    return value.isoformat()


@register.filter
def rate(value, language="en") -> str:
    """An interest rate as given ("12.25"), with a decimal comma in the Nordic languages."""
    text = str(value or "")
    return text if language == "en" else text.replace(".", ",")


@register.filter
def css_string(value) -> str:
    """Text for a CSS string literal ("...") inside <style>: backslashes, quotes and angle brackets as CSS
    escapes, line breaks as spaces. Safe as it is: HTML entities mean nothing inside <style>."""
    text = str(value or "")
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")
    return mark_safe(text.replace("<", "\\3c ").replace(">", "\\3e "))
