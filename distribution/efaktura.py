"""eFaktura 2.0 alias matching (Norway): which eFaktura receiver a customer is, and whether that receiver
said yes to all ("ja til alle"), so that the invoice goes to their online bank without a consent per biller.

Nets' alias register is asked with what we know of the customer; the register answers with a perfect
match on the national id, or on two of the three: mobile number, e-mail and postcode (seeds 002,
"eFaktura internet bank B2C Norway"). The register is an adapter (`EFAKTURA_REGISTER`): Nets' own is a
network service with its agreement and certificates; `FileRegister` reads the receivers from a JSON file
(`EFAKTURA_REGISTER_FILE`), for the demo, the tests and a client's test environment, and applies the same
rule. The answer, or why there is none, is recorded on the customer (`EfakturaMatch`), shown in 360 and
read by the channel choice (distribution.channels).
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

ALIASES = ("phone", "email", "postal_code")


@dataclass(frozen=True)
class Aliases:
    """What we know of a customer, as the register compares it (`normalised`)."""

    national_id: str = ""
    phone: str = ""
    email: str = ""
    postal_code: str = ""

    @classmethod
    def of(cls, customer) -> "Aliases":
        return cls(national_id=customer.national_id, phone=customer.phone, email=customer.email,
                   postal_code=customer.postal_code).normalised()  # fmt: skip

    def normalised(self) -> "Aliases":
        digits = re.sub(r"\D", "", self.phone)
        if len(digits) == 10 and digits.startswith("47"):
            digits = digits[2:]  # +47 / 0047: a Norwegian mobile number is its 8 digits
        elif len(digits) == 12 and digits.startswith("0047"):
            digits = digits[4:]
        return Aliases(
            national_id=re.sub(r"\D", "", self.national_id),
            phone=digits,
            email=self.email.strip().lower(),
            postal_code=self.postal_code.strip(),
        )


@dataclass(frozen=True)
class Receiver:
    receiver_id: str
    aliases: Aliases
    accepts_all: bool


@dataclass(frozen=True)
class Answer:
    """The register's answer: the receiver matched (and by what), or none and why."""

    receiver_id: str = ""
    matched_by: str = ""  # "national_id", or two or three of ALIASES joined by "+"
    accepts_all: bool = False
    reason: str = ""


def matched_by(ours: Aliases, theirs: Aliases) -> str:
    """How a receiver matches a customer: a perfect match of the national id, or of at least two of
    mobile, e-mail and postcode; "" when it does not."""
    if ours.national_id and ours.national_id == theirs.national_id:
        return "national_id"
    same = [name for name in ALIASES if getattr(ours, name) and getattr(ours, name) == getattr(theirs, name)]
    return "+".join(same) if len(same) >= 2 else ""


class FileRegister:
    """The register as a JSON file: [{"receiver_id", "national_id", "phone", "email", "postal_code",
    "accepts_all"}, ...]. Read on every lookup (it is small, and edited while the demo runs)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or settings.EFAKTURA_REGISTER_FILE)

    def receivers(self) -> list[Receiver]:
        if not self.path.exists():
            return []
        rows = json.loads(self.path.read_text(encoding="utf-8"))
        return [
            Receiver(
                receiver_id=str(row["receiver_id"]),
                aliases=Aliases(**{k: str(row.get(k) or "") for k in ("national_id", *ALIASES)}).normalised(),
                accepts_all=bool(row.get("accepts_all", True)),
            )
            for row in rows
        ]

    def lookup(self, aliases: Aliases) -> Answer:
        if not aliases.national_id and sum(1 for name in ALIASES if getattr(aliases, name)) < 2:
            return Answer(reason="neither a national id nor two of mobile, e-mail and postcode to look up")
        found = [(r, how) for r in self.receivers() if (how := matched_by(aliases, r.aliases))]
        by_id = [(r, how) for r, how in found if how == "national_id"]
        found = by_id or found  # the national id decides where it matches
        if not found:
            return Answer(reason="no eFaktura receiver matches the national id or two of mobile, e-mail and postcode")
        if len({r.receiver_id for r, _ in found}) > 1:
            return Answer(reason=f"{len(found)} eFaktura receivers match: none is chosen")
        receiver, how = found[0]
        return Answer(receiver_id=receiver.receiver_id, matched_by=how, accepts_all=receiver.accepts_all,
                      reason="" if receiver.accepts_all else "the receiver has not said yes to all")  # fmt: skip


def efaktura_register():
    return import_string(settings.EFAKTURA_REGISTER)()
