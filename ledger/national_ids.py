"""National identity numbers (RegNo) of persons and organisations, checked with python-stdnum."""

from stdnum import exceptions as stdnum_errors
from stdnum.dk import cpr, cvr
from stdnum.fi import hetu, ytunnus
from stdnum.no import fodselsnummer, orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer

# country -> (module for persons, module for organisations)
VALIDATORS = {
    "NO": (fodselsnummer, orgnr),
    "SE": (personnummer, se_orgnr),
    "DK": (cpr, cvr),
    "FI": (hetu, ytunnus),
}


class InvalidNationalId(ValueError):
    pass


def validate_national_id(value: str, *, country: str, business: bool) -> str:
    """Return the number in its compact form, or raise InvalidNationalId saying why.

    A sole proprietor may use a personal number as a business id, so businesses accept both kinds.
    Countries we have no rules for are accepted as given.
    """
    if country not in VALIDATORS:
        return value.strip()
    person, organisation = VALIDATORS[country]
    candidates = (organisation, person) if business else (person,)
    reasons = []
    for module in candidates:
        try:
            return module.compact(module.validate(value))
        except stdnum_errors.ValidationError as exc:
            reasons.append(f"not a valid {module.__name__.split('.')[-1]}: {exc}")
    raise InvalidNationalId(f"{value!r} ({country}) is {'; '.join(reasons)}")
