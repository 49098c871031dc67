"""Organisation numbers, VAT identifiers and the electronic addresses of businesses for e-invoices (CUSIN `EDIInfo` BuyerId/SellerId, the API): an
organisation number checked by its own check digits before it becomes a PEPPOL endpoint id.

Given bare, the number is read as the customer's country's organisation number (Norway's
organisasjonsnummer, Sweden's organisationsnummer, Denmark's CVR, Finland's Y-tunnus) and stored compact.
Given with its PEPPOL Electronic Address Scheme ("0192:923609016"), it is checked by that scheme where
we know it and stored with it; another scheme's id is kept as given (at most 50 characters, no spaces).
"""

import re

from stdnum.dk import cvr
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from .errors import ValidationFailed

# The PEPPOL Electronic Address Scheme of each country's organisation number, and its checker.
SCHEMES = {
    "0192": ("NO", no_orgnr),
    "0007": ("SE", se_orgnr),
    "0184": ("DK", cvr),
    "0216": ("FI", ytunnus),
}
EAS_BY_COUNTRY = {country: scheme for scheme, (country, _) in SCHEMES.items()}
_SCHEMED = re.compile(r"^(\d{4}):(\S{1,50})$")


def edi_id_clean(value: str, *, country: str, field: str) -> str:
    """The id in its stored form ('' stays ''), or ValidationFailed (code `invalid_edi_id`) naming the field."""
    raw = (value or "").strip()
    if not raw:
        return ""
    schemed = _SCHEMED.match(raw.replace(" ", ""))
    if schemed:
        scheme, number = schemed.groups()
        if scheme not in SCHEMES:
            return f"{scheme}:{number}"
        return f"{scheme}:{_checked(number, SCHEMES[scheme], raw=raw, field=field)}"
    known = SCHEMES.get(EAS_BY_COUNTRY.get((country or "").upper(), ""))
    if known is None:
        raise ValidationFailed(
            f"{field} {raw!r}: give the PEPPOL scheme with the id (e.g. 0088:7300010000001) for country {country!r}",
            code="invalid_edi_id",
            field=field,
        )
    return _checked(raw, known, raw=raw, field=field)


def edi_endpoint(value: str, *, country: str) -> tuple[str, str]:
    """(scheme, id) of a stored id: its own scheme, else the country's organisation-number scheme."""
    schemed = _SCHEMED.match(value or "")
    if schemed:
        return schemed.group(1), schemed.group(2)
    return EAS_BY_COUNTRY.get(country, "0192"), value


def _checked(number: str, scheme: tuple, *, raw: str, field: str) -> str:
    country, module = scheme
    try:
        return module.validate(number)
    except StdnumError as exc:
        raise ValidationFailed(
            f"{field} {raw!r} is not a valid {country} organisation number ({exc})",
            code="invalid_edi_id",
            field=field,
        ) from None


def org_no_clean(value: str, *, country: str, field: str = "org_no") -> str:
    """A client's organisation number in its country, compact ('' stays '')."""
    raw = (value or "").strip()
    if not raw:
        return ""
    scheme = SCHEMES.get(EAS_BY_COUNTRY.get((country or "").upper(), ""))
    if scheme is None:
        raise ValidationFailed(f"no organisation-number rules for country {country!r}", code="invalid_org_no",
                               field=field)  # fmt: skip
    try:
        return scheme[1].validate(raw)
    except StdnumError as exc:
        raise ValidationFailed(f"{field} {raw!r} is not a valid {country} organisation number ({exc})",
                               code="invalid_org_no", field=field) from None  # fmt: skip


# The VAT identifier of a VAT-registered organisation (EN 16931 BT-31: the country's prefix first).
_VAT_FORMS = {
    "NO": "NO{}MVA",  # Merverdiavgiftsregisteret (PEPPOL rule NO-R-001)
    "SE": "SE{}01",  # momsregistreringsnummer
    "DK": "DK{}",
    "FI": "FI{}",
}


def vat_identifier(org_no: str, *, country: str) -> str:
    return _VAT_FORMS[country].format(org_no.replace("-", ""))
