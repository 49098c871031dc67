"""The reasons our own services record with events, said in the operator's language.

Services write a reason as English text (the Bill Journal, the API and the logs read it as it is). The
ones they compose themselves follow a few fixed shapes; each shape is read here and said again through
gettext, with its amounts and dates in the ledger's format. Anything else (what an operator or a customer
wrote) is shown as it was written.
"""

import re
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from claims.services.common import STEP_EVENT

from .labels import label
from .templatetags.ui import amount, day

STEP_EVENT_KINDS = frozenset(str(kind) for kind in STEP_EVENT.values())

_AMOUNT = r"-?\d+\.\d{2}"
_DAY = r"\d{4}-\d{2}-\d{2}"

# A claim step's invoice event: "<step>; <fee note> <fee>; interest <interest>" (claims/services/writing.py).
_STEP = re.compile(
    rf"^[^;]+(?:; (?!interest )(?P<note>[^;]*?) (?P<fee>{_AMOUNT})(?: less [^;]*)?)?(?:; interest (?P<interest>{_AMOUNT}))?$"
)
_SHAPES = [
    (re.compile(r"^credited$"), lambda m: _("credited")),
    (re.compile(r"^written off$"), lambda m: _("written off")),
    (re.compile(r"^paid by payment (?P<ref>\S+)$"), lambda m: _("paid by payment %(ref)s") % m),
    (re.compile(rf"^payment (?P<ref>\S+)(?P<surplus> \(surplus\))?(?:: (?P<amount>{_AMOUNT}))?$"),
     lambda m: (_("payment %(ref)s (surplus)") if m["surplus"] else _("payment %(ref)s")) % m
     + (f": {m['amount']}" if m["amount"] else "")),
    (re.compile(rf"^respite until (?P<day>{_DAY}) ended$"), lambda m: _("respite until %(day)s ended") % m),
    (re.compile(rf"^respite until (?P<day>{_DAY})$"), lambda m: _("respite until %(day)s") % m),
    (re.compile(rf"^Direct debit attempt (?P<n>\d+) of (?P<of>\d+): (?P<amount>{_AMOUNT}) \w+, debit date "
                rf"(?P<day>{_DAY}), (?P<ref_label>\w+) (?P<ref>\d+), file (?P<file>\S+)$"),
     lambda m: _("Direct debit attempt %(n)s of %(of)s: %(amount)s, debit date %(day)s, %(ref_label)s %(ref)s, "
                 "file %(file)s") % m),
    # Claim events (claims/services/decisions.py: _Run.advance, overtaken, fee).
    (re.compile(r"^schedule moved (?P<n>\d+) days by respite or dispute$"),
     lambda m: _("schedule moved %(n)s days by respite or dispute") % m),
    (re.compile(rf"^open amount (?P<amount>{_AMOUNT}) is below the step's minimum (?P<minimum>{_AMOUNT})$"),
     lambda m: _("open amount %(amount)s is below the step's minimum %(minimum)s") % m),
    (re.compile(rf"^overtaken: due on (?P<day>{_DAY}), when the run did not come, and the next step "
                r"\((?P<step>\w+)\) is due as well$"),
     lambda m: _("overtaken: due on %(day)s, when the run did not come, and the next step (%(step)s) is due as "
                 "well") % m),
    (re.compile(rf"^postponed to (?P<day>{_DAY}): a fee only (?P<n>\d+) days after the due date$"),
     lambda m: _("postponed to %(day)s: a fee only %(n)s days after the due date") % m),
    (re.compile(rf"^postponed to (?P<day>{_DAY}): a fee only (?P<n>\d+) days after the last one$"),
     lambda m: _("postponed to %(day)s: a fee only %(n)s days after the last one") % m),
]  # fmt: skip


def reason_text(reason: str, ledger, *, kind: str = "") -> str:
    """`reason` in the active language where it is one of the shapes above; else as it was written. The
    event of a claim step (`kind`) repeats the step in its reason: only its fee and interest are said."""
    text = (reason or "").strip()
    if kind in STEP_EVENT_KINDS and (m := _STEP.match(text)):
        parts = []
        if m["fee"]:
            parts.append(_("fee %(amount)s") % {"amount": amount(Decimal(m["fee"]), ledger)})
        if m["interest"]:
            parts.append(_("interest %(amount)s") % {"amount": amount(Decimal(m["interest"]), ledger)})
        return "; ".join(parts)
    for pattern, say in _SHAPES:
        if m := pattern.match(text):
            values = {k: _shown(k, v, ledger) for k, v in m.groupdict().items()}
            return say(values)
    return text


def _shown(name: str, value: str | None, ledger) -> str | None:
    if value is None:
        return None
    if name == "day":
        return day(date.fromisoformat(value), ledger)
    if name == "step":
        return label(value, "claim_level")
    if name in ("amount", "minimum"):
        return amount(Decimal(value), ledger)
    return value
