"""Postal addresses as every path writes them (the API, CUSIN files, 360's new address, returned mail):
the country an ISO 3166-1 alpha-2 code, the postcode in the country's own shape where we know it.

Norway and Denmark use four digits, Sweden and Finland five (Sweden's written "123 45"; stored without the
space). Other countries' postcodes are kept as given, up to 20 characters: a letter abroad is addressed as
its country writes it.
"""

import re

from iso3166 import countries_by_alpha2

from .errors import ValidationFailed

POSTCODE_SHAPES = {
    "NO": (re.compile(r"^\d{4}$"), "4 digits"),
    "DK": (re.compile(r"^\d{4}$"), "4 digits"),
    "SE": (re.compile(r"^\d{5}$"), "5 digits"),
    "FI": (re.compile(r"^\d{5}$"), "5 digits"),
}


def country_clean(value: str, *, field: str = "country", what: str = "") -> str:
    """The ISO 3166-1 alpha-2 code, upper case; '' stays '' (the caller decides the default)."""
    code = (value or "").strip().upper()
    if code and code not in countries_by_alpha2:
        raise ValidationFailed(
            f"{what}country {value!r} is not an ISO 3166 country code (e.g. NO, SE, DK, FI)",
            code="invalid_country",
            field=field,
            params={"country": value},
        )
    return code


def postcode_clean(value: str, *, country: str, field: str = "postal_code", what: str = "") -> str:
    """The postcode in its stored form, checked against the country's shape; '' stays ''."""
    postcode = " ".join((value or "").split())
    if not postcode:
        return ""
    shape = POSTCODE_SHAPES.get(country)
    if shape is None:
        if len(postcode) > 20:
            raise ValidationFailed(f"{what}postcode {value!r} is longer than 20 characters",
                                   code="invalid_postcode", field=field)  # fmt: skip
        return postcode
    pattern, described = shape
    compact = postcode.replace(" ", "")
    if not pattern.match(compact):
        raise ValidationFailed(
            f"{what}postcode {value!r} is not a {countries_by_alpha2[country].name} postcode ({described})",
            code="invalid_postcode",
            field=field,
            params={"postcode": value, "country": country},
        )
    return compact


def address_clean(address: dict, *, default_country: str, field_prefix: str = "", what: str = "") -> dict:
    """An address dict (keys `country`, `postal_code`, ...) with both checked; the rest as given. The
    country defaults to `default_country` (the ledger's) for the postcode check when none is given."""
    cleaned = dict(address)
    country = country_clean(address.get("country", ""), field=f"{field_prefix}country", what=what)
    if "country" in address:
        cleaned["country"] = country
    if "postal_code" in address:
        cleaned["postal_code"] = postcode_clean(
            address.get("postal_code", ""), country=country or default_country,
            field=f"{field_prefix}postal_code", what=what,
        )  # fmt: skip
    return cleaned
