"""The reasons our services record, said again in the operator's language with the ledger's formats."""

from django.utils import translation

from portal360.reasons import reason_text
from tests.factories import LedgerFactory


def test_system_reasons_in_norwegian_and_operator_text_as_written(db):
    ledger = LedgerFactory(country="NO")
    with translation.override("nb"):
        say = lambda text, kind="": reason_text(text, ledger, kind=kind)  # noqa: E731
        assert say("Collection notice; reminder fee 35.00; interest 12.30", "collection_notice_sent") == (
            "gebyr 35,00; renter 12,30"
        )
        assert say("Reminder; interest 1234.50", "reminder_sent") == "renter 1\xa0234,50"
        assert say("respite until 2026-11-21 ended") == "utsettelse til 21.11.2026 utløpt"
        assert say("paid by payment 000000901") == "betalt med innbetaling 000000901"
        assert say("credited") == "kreditert"
        assert say(
            "Direct debit attempt 1 of 3: 437.50 NOK, debit date 2026-11-28, KID 000300300019, file AG_1.txt"
        ) == "Trekkforsøk 1 av 3: 437,50, trekkdato 28.11.2026, KID 000300300019, fil AG_1.txt"
        assert say("Kunden ringte 2. mai") == "Kunden ringte 2. mai"  # an operator's words stay theirs


def test_the_claim_events_reasons_in_norwegian(db):
    ledger = LedgerFactory(country="NO")
    with translation.override("nb"):
        say = lambda text: reason_text(text, ledger)  # noqa: E731
        assert say("overtaken: due on 2025-01-18, when the run did not come, and the next step "
                   "(collection_notice) is due as well") == (
            "forbigått: forfalt 18.01.2025, da kjøringen uteble, og neste trinn (Inkassovarsel) er også forfalt"
        )  # fmt: skip
        assert say("open amount 120.00 is below the step's minimum 500.00") == (
            "åpent beløp 120,00 er under trinnets minstebeløp 500,00"
        )
        assert say("postponed to 2026-03-01: a fee only 14 days after the last one") == (
            "utsatt til 01.03.2026: gebyr først 14 dager etter forrige"
        )
        assert say("schedule moved 5 days by respite or dispute") == (
            "tidsplanen flyttet 5 dager av utsettelse eller innsigelse"
        )


def test_every_coded_guard_error_is_translated_in_each_language():
    from portal360.errors import MESSAGES

    with translation.override("en"):
        english = {code: str(text) for code, text in MESSAGES.items()}
    for language in ("nb", "sv", "da"):
        with translation.override(language):
            untranslated = [code for code, text in MESSAGES.items() if str(text) == english[code]]
        assert untranslated == [], language


def test_a_guard_error_without_the_values_its_text_names_is_shown_in_the_services_own_words():
    from ledger.errors import NotFound
    from portal360.errors import error_text

    with translation.override("nb"):
        assert error_text(NotFound("no invoice X-1", code="invoice_not_found", params={"number": "X-1"})) == (
            "Det finnes ingen faktura X-1 i denne reskontroen."
        )
        assert error_text(NotFound("no invoice X-1", code="invoice_not_found")) == "no invoice X-1"
