"""The legal entity from the national id: decided when not given, checked when given, per country."""

import pytest

from ledger.models import LegalEntity
from ledger.national_ids import InvalidNationalId, national_id_check

PRIVATE, BUSINESS = LegalEntity.PRIVATE, LegalEntity.BUSINESS

# country, a person's number (and its compact form), an organisation's number (and its compact form)
NUMBERS = [
    ("NO", "151086 95088", "15108695088", "923 609 016", "923609016"),
    ("SE", "811218-9876", "811218-9876", "556036-0793", "5560360793"),
    ("DK", "211062-5629", "2110625629", "13 58 56 28", "13585628"),
    ("FI", "131052-308T", "131052-308T", "2077474-0", "20774740"),
]
# The second kind of personal number each country has: D-nummer, samordningsnummer (day + 40 / + 60).
OTHER_PERSONS = [("NO", "55108610092"), ("SE", "811278-9873")]


@pytest.mark.parametrize(("country", "person", "person_compact", "org", "org_compact"), NUMBERS)
def test_left_out_the_entity_follows_the_number(country, person, person_compact, org, org_compact):
    assert national_id_check(person, country=country, legal_entity=None) == (
        national_id_check(person_compact, country=country, legal_entity="")
    )
    as_person = national_id_check(person, country=country, legal_entity=None)
    assert (as_person.number, as_person.legal_entity, as_person.inferred) == (person_compact, PRIVATE, True)
    as_org = national_id_check(org, country=country, legal_entity=None)
    assert (as_org.number, as_org.legal_entity, as_org.inferred) == (org_compact, BUSINESS, True)


@pytest.mark.parametrize(("country", "number"), OTHER_PERSONS)
def test_d_numbers_and_coordination_numbers_are_persons(country, number):
    checked = national_id_check(number, country=country, legal_entity=None)
    assert (checked.legal_entity, checked.inferred) == (PRIVATE, True)


@pytest.mark.parametrize(("country", "person", "person_compact", "org", "org_compact"), NUMBERS)
def test_given_the_entity_the_number_must_be_of_its_kind(country, person, person_compact, org, org_compact):
    assert national_id_check(org, country=country, legal_entity=BUSINESS).inferred is False
    assert national_id_check(person, country=country, legal_entity=PRIVATE).legal_entity == PRIVATE
    with pytest.raises(InvalidNationalId, match="the number of a private person, not of a business"):
        national_id_check(person, country=country, legal_entity=BUSINESS)
    with pytest.raises(InvalidNationalId, match="the number of a business, not of a private person"):
        national_id_check(org, country=country, legal_entity=PRIVATE)


@pytest.mark.parametrize(
    ("country", "number", "person_check", "org_check"),
    [
        ("NO", "12345678901", "fødselsnummer or D-nummer", "organisasjonsnummer"),
        ("SE", "5560360794", "personnummer or samordningsnummer", "organisationsnummer"),
        ("DK", "13585629", "CPR-nummer", "CVR-nummer"),
        ("FI", "2077474-1", "henkilötunnus", "Y-tunnus"),
    ],
)
def test_a_number_valid_as_neither_names_both_checks(country, number, person_check, org_check):
    with pytest.raises(InvalidNationalId) as refused:
        national_id_check(number, country=country, legal_entity=None)
    message = str(refused.value)
    assert f"not a valid {person_check}" in message and f"not a valid {org_check}" in message


def test_a_swedish_personnummer_is_not_taken_for_an_organisationsnummer():
    # Both pass the Luhn check; the third digit (a month, 0 or 1) tells the person apart.
    assert national_id_check("8112189876", country="SE", legal_entity=None).legal_entity == PRIVATE


def test_countries_without_rules_keep_the_number_and_the_given_entity():
    assert national_id_check(" DE123 ", country="DE", legal_entity=None) == national_id_check(
        "DE123", country="DE", legal_entity=PRIVATE
    )
    assert national_id_check("DE123", country="DE", legal_entity=BUSINESS).legal_entity == BUSINESS
