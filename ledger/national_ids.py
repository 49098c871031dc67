"""National identity numbers (RegNo) of persons and organisations, checked with python-stdnum.

A customer's legal entity follows from its number: a file may leave `LegalEntity` out, and then the
number decides (a number valid for exactly one kind); when the entity is given, the number must be of
that kind. The person and organisation numbers of each country we know do not overlap, so the
decision is never a guess.
"""

from dataclasses import dataclass
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum import luhn
from stdnum.dk import cpr, cvr
from stdnum.fi import hetu, ytunnus
from stdnum.no import fodselsnummer, orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer

from ledger.models import LegalEntity


class InvalidNationalId(ValueError):
    pass


class _Check:
    """One kind of number: its name in messages, and validate() returning the compact form."""

    def __init__(self, name: str, module):
        self.name, self.module = name, module

    def validate(self, value: str) -> str:
        return self.module.compact(self.module.validate(value))


class _SwedishPerson(_Check):
    """personnummer, or samordningsnummer (the day plus 60), which stdnum's personnummer refuses."""

    def validate(self, value: str) -> str:
        try:
            return super().validate(value)
        except stdnum_errors.InvalidComponent:
            number = personnummer.compact(value)
            day_at = len(number) - 7  # YYMMDD-NNNN or YYYYMMDD-NNNN: the day sits before the dash
            day = int(number[day_at : day_at + 2]) if number[day_at : day_at + 2].isdigit() else 0
            if not 61 <= day <= 91:
                raise
            birth = f"{number[:day_at]}{day - 60:02d}{number[day_at + 2 :]}"
            personnummer.get_birth_date(birth)  # a real date once the 60 is taken off
            digits = number[:-5] + number[-4:]
            luhn.validate(digits[-10:])
            return number


class _SwedishOrganisation(_Check):
    """organisationsnummer: 10 digits, Luhn, and a third digit of at least 2, which is what keeps it
    apart from a personnummer (whose third digit starts the month)."""

    def validate(self, value: str) -> str:
        number = super().validate(value)
        if int(number[2]) < 2:
            raise stdnum_errors.InvalidComponent("the third digit of an organisationsnummer is at least 2")
        return number


# country -> (check for persons, check for organisations)
CHECKS = {
    "NO": (_Check("fødselsnummer or D-nummer", fodselsnummer), _Check("organisasjonsnummer", orgnr)),
    "SE": (
        _SwedishPerson("personnummer or samordningsnummer", personnummer),
        _SwedishOrganisation("organisationsnummer", se_orgnr),
    ),  # fmt: skip
    "DK": (_Check("CPR-nummer", cpr), _Check("CVR-nummer", cvr)),
    "FI": (_Check("henkilötunnus", hetu), _Check("Y-tunnus", ytunnus)),
}


@dataclass(frozen=True)
class NationalIdCheck:
    number: str  # the compact form
    legal_entity: str
    inferred: bool  # the entity was decided from the number, not given


def _try(check: _Check, value: str) -> tuple[str | None, str]:
    try:
        return check.validate(value), ""
    except stdnum_errors.ValidationError as exc:
        return None, f"not a valid {check.name} ({exc})"


def national_id_check(value: str, *, country: str, legal_entity: str | None) -> NationalIdCheck:
    """Check the number against its country's rules and decide or check the legal entity.

    `legal_entity` None (or "") means "not given": the number decides. Raises InvalidNationalId
    naming the checks the number failed. Countries we have no rules for keep the number as given and
    the entity as given (private when not given).
    """
    value = value.strip()
    if country not in CHECKS:
        return NationalIdCheck(value, legal_entity or LegalEntity.PRIVATE, inferred=False)
    person, organisation = CHECKS[country]
    if legal_entity:
        check = organisation if legal_entity == LegalEntity.BUSINESS else person
        number, why = _try(check, value)
        if number is None:
            other_check = person if check is organisation else organisation
            other, _ = _try(other_check, value)
            kinds = {person: "a private person", organisation: "a business"}
            hint = f"; it is a valid {other_check.name}, the number of {kinds[other_check]}, not of {kinds[check]}"
            hint = hint if other else ""
            raise InvalidNationalId(f"{value!r} ({country}) is {why}{hint}")
        return NationalIdCheck(number, legal_entity, inferred=False)
    as_person, why_person = _try(person, value)
    as_organisation, why_organisation = _try(organisation, value)
    if as_person and not as_organisation:
        return NationalIdCheck(as_person, LegalEntity.PRIVATE, inferred=True)
    if as_organisation and not as_person:
        return NationalIdCheck(as_organisation, LegalEntity.BUSINESS, inferred=True)
    if as_person:  # both: cannot happen with the rules above, but never guess
        raise InvalidNationalId(f"{value!r} ({country}) is valid both as {person.name} and {organisation.name}: "
                                "give the legal entity")  # fmt: skip
    raise InvalidNationalId(f"{value!r} ({country}) is {why_person}, and {why_organisation}")


def validate_national_id(value: str, *, country: str, business: bool) -> str:
    """The compact number of a person (business False) or an organisation, or InvalidNationalId."""
    entity = LegalEntity.BUSINESS if business else LegalEntity.PRIVATE
    return national_id_check(value, country=country, legal_entity=entity).number


# The century of a henkilötunnus by its separator (stdnum checks it but does not return the date).
_HETU_CENTURY = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


def birth_date(number: str, *, country: str) -> date | None:
    """A private person's birth date from their compact national id (None where the number does not say:
    another country's, or a number that is not a person's). A D-nummer (day + 40) and a samordningsnummer
    (day + 60) give the real day."""
    try:
        if country == "NO":
            return fodselsnummer.get_birth_date(number)
        if country == "SE":
            digits = personnummer.compact(number)
            day_at = len(digits) - 7
            day = int(digits[day_at : day_at + 2])
            if day > 60:
                digits = f"{digits[:day_at]}{day - 60:02d}{digits[day_at + 2 :]}"
            return personnummer.get_birth_date(digits)
        if country == "DK":
            return cpr.get_birth_date(number)
        if country == "FI":
            compact = hetu.compact(number)
            year = _HETU_CENTURY[compact[6]] + int(compact[4:6])
            return date(year, int(compact[2:4]), int(compact[0:2]))
    except (stdnum_errors.ValidationError, ValueError, KeyError, IndexError):
        return None
    return None


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day` (a 29 February birthday counts from 1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
