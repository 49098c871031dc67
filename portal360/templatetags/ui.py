"""Amounts and dates in the ledger's locale, whatever language the operator reads: an operator of a
Norwegian ledger sees `1 234,50 kr` and `04.12.2026` also with the UI in English."""

import re
from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils import formats, translation
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from ledger.money import to_money

register = template.Library()

# The locale whose number and date formats a ledger of each country uses.
_COUNTRY_LOCALE = {"NO": "nb", "SE": "sv", "DK": "da", "FI": "fi"}


def _locale(ledger) -> str:
    return _COUNTRY_LOCALE.get(getattr(ledger, "country", ""), "en")


@register.filter
def amount(value, ledger=None) -> str:
    """1 234,50 (no currency)."""
    if value is None or value == "":
        return ""
    number = to_money(value if isinstance(value, Decimal) else str(value))
    with translation.override(_locale(ledger)):
        return formats.number_format(number, decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def money(value, ledger=None) -> str:
    """1 234,50 NOK."""
    text = amount(value, ledger)
    if not text:
        return ""
    # The ISO code, never "kr": a client's Norwegian and Swedish ledgers sit side by side in 360.
    return f"{text}\xa0{getattr(ledger, 'currency', '')}".rstrip()


@register.filter
def day(value, ledger=None) -> str:
    """04.12.2026 (Norway), 2026-12-04 (Sweden)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = localtime(value).date()
    with translation.override(_locale(ledger)):
        return formats.date_format(value, "SHORT_DATE_FORMAT")


@register.filter
def moment(value, ledger=None) -> str:
    """04.12.2026 14:05, in the ledger's time zone."""
    if not value:
        return ""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(getattr(ledger, "time_zone", "") or "UTC")
    local = value.astimezone(zone)
    return f"{day(local.date(), ledger)} {local:%H:%M}"


@register.filter
def masked(value: str, keep: int = 4) -> str:
    """A national id with all but its last digits hidden."""
    text = str(value or "")
    if len(text) <= keep:
        return text
    return "•" * (len(text) - keep) + text[-keep:]


@register.filter
def label(code, table: str) -> str:
    """A domain code in the operator's language: {{ invoice.status|label:"invoice_status" }}."""
    from ..labels import label as lookup

    return lookup(code, table)


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key, "")


@register.filter
def changes(values, ledger=None) -> str:
    """An audit event's before or after ({"payment_terms_days": 20}) in words: "Payment terms (days): 20";
    a claim step's figures under its number; yes/no, amounts and lists as the page writes them."""
    from ..labels import DOCUMENT_KIND, SETTING, SETTING_VALUE

    def shown(value):
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        if isinstance(value, list):
            return ", ".join(shown(v) for v in value) or "—"
        if isinstance(value, str) and value in SETTING_VALUE:
            return str(SETTING_VALUE[value])
        if isinstance(value, str) and value in DOCUMENT_KIND:
            return str(DOCUMENT_KIND[value])
        if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{2}", value):
            return amount(value, ledger)
        return "—" if value in (None, "") else str(value)

    parts = []
    for key, value in (values or {}).items():
        if isinstance(value, dict):  # a claim step by its position
            inner = "; ".join(f"{SETTING.get(k, k)}: {shown(v)}" for k, v in value.items())
            parts.append(f"{_('Step %(position)s') % {'position': key}}: {inner}")
        else:
            parts.append(f"{SETTING.get(key, key)}: {shown(value)}")
    return "; ".join(parts)



@register.filter
def reason(event, ledger=None) -> str:
    """An event's recorded reason in the operator's language (portal360/reasons.py)."""
    from ..reasons import reason_text

    if isinstance(event, dict):  # a claim's history (claims.selectors.claim_status): its reason is "why"
        return reason_text(event.get("why", ""), ledger, kind=event.get("kind", ""))
    return reason_text(event.reason, ledger, kind=event.kind)
