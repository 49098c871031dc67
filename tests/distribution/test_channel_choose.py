"""Every branch of the channel choice, with the reason it records (seeds/000 section 6, seeds/002)."""

from datetime import date

import pytest

from distribution.channels import channel_choose
from distribution.models import Channel, PaperRoute
from ledger.models import ConsentKind, Customer, CustomerConsent, LegalEntity

DAY = date(2026, 2, 20)


def customer(**fields) -> Customer:
    values = {
        "customer_no": "1001",
        "name": "Kari Nordmann",
        "legal_entity": LegalEntity.PRIVATE,
        "email": "kari@example.no",
        "phone": "+4791234567",
        "address_line1": "Storgata 1",
        "postal_code": "0155",
        "city": "Oslo",
        "country": "NO",
        "national_id": "01017012345",
    }
    values.update(fields)
    return Customer(**values)


def consent(kind, *, changed_on=date(2026, 1, 1), active=True) -> CustomerConsent:
    return CustomerConsent(kind=kind, active=active, changed_on=changed_on)


def choose(kind="reminder", cust=None, country="NO", **kwargs):
    return channel_choose(
        kind=kind, customer=cust or customer(), ledger_country=country, booking_date=DAY, **kwargs
    )


def test_default_priority_email_when_known():
    choice = choose()
    assert (choice.channel, choice.address) == (Channel.EMAIL, {"email": "kari@example.no"})
    assert choice.reason == "default priority: e-mail address known"


def test_default_priority_paper_to_the_legal_address_without_email():
    choice = choose(cust=customer(email=""))
    assert (choice.channel, choice.route) == (Channel.PAPER, PaperRoute.LEGAL_ADDRESS)
    assert choice.address["line1"] == "Storgata 1" and choice.address["city"] == "Oslo"
    assert "no e-invoice consent or e-mail" in choice.reason and not choice.error


def test_efaktura_consent_beats_email_and_the_distribution_type():
    choice = choose(consents=[consent(ConsentKind.EINVOICE_B2C_NO)], distribution_type="PostalService")
    assert choice.channel == Channel.EINVOICE_B2C
    assert "active e-invoice B2C consent (einvoice_b2c_no)" in choice.reason


def test_consent_of_another_country_or_cancelled_does_not_count():
    assert choose(consents=[consent(ConsentKind.EINVOICE_B2C_SE)]).channel == Channel.EMAIL
    cancelled = consent(ConsentKind.EINVOICE_B2C_NO, active=False)
    assert choose(consents=[cancelled]).channel == Channel.EMAIL


def test_verified_distribution_consent_applies_from_the_next_document():
    same_day = [consent(ConsentKind.EINVOICE_B2C_NO, changed_on=DAY)]
    assert choose(consents=same_day).channel == Channel.EMAIL
    next_day = channel_choose(
        kind="reminder",
        customer=customer(),
        ledger_country="NO",
        booking_date=date(2026, 2, 21),
        consents=same_day,
    )
    assert next_day.channel == Channel.EINVOICE_B2C


def test_b2c_consent_is_not_used_for_a_business_customer():
    business = customer(legal_entity=LegalEntity.BUSINESS)
    assert choose(cust=business, consents=[consent(ConsentKind.EINVOICE_B2C_NO)]).channel == Channel.EMAIL


def test_kivra_consent_in_sweden():
    swede = customer(country="SE")
    choice = choose(cust=swede, country="SE", consents=[consent(ConsentKind.KIVRA)])
    assert (choice.channel, choice.reason) == (Channel.KIVRA, "active Kivra consent")


def test_distribution_type_postal_service_goes_to_the_billing_address():
    billed = customer(billing_address={"line1": "Postboks 12", "postal_code": "0101", "city": "Oslo"})
    choice = choose(cust=billed, distribution_type="PostalService")
    assert (choice.channel, choice.route) == (Channel.PAPER, PaperRoute.BILLING_ADDRESS)
    assert choice.address["line1"] == "Postboks 12"
    assert choice.reason == "DistributionType PostalService"


def test_distribution_type_email_without_address_falls_back_to_paper():
    choice = choose(cust=customer(email=""), distribution_type="Email")
    assert choice.channel == Channel.PAPER
    assert choice.reason == "DistributionType Email but no e-mail address: paper"
    assert choose(distribution_type="Email").reason == "DistributionType Email"


def test_archive_only():
    choice = choose(kind="invoice", distribution_type="NoDistribution")
    assert (choice.channel, choice.reason) == (
        Channel.ARCHIVE_ONLY,
        "DistributionType NoDistribution: archive only",
    )


def test_einvoice_b2b_with_edi_ids():
    edi = customer(
        legal_entity=LegalEntity.BUSINESS,
        edi_van="PEPPOL",
        edi_buyer_id="987654321",
        edi_seller_id="912345678",
    )
    choice = choose(kind="invoice", cust=edi, distribution_type="EInvoiceB2B")
    assert choice.channel == Channel.EINVOICE_B2B
    assert choice.address == {"van": "PEPPOL", "buyer_id": "987654321", "seller_id": "912345678"}
    # A reminder cannot go as an EHF invoice: the default priority takes over, and says why.
    reminder = choose(kind="reminder", cust=edi, distribution_type="EInvoiceB2B")
    assert reminder.channel == Channel.EMAIL
    assert reminder.reason.startswith("EInvoiceB2B carries invoices only")


def test_einvoice_b2b_without_edi_ids_is_an_error_and_paper_to_the_billing_address():
    edi = customer(
        legal_entity=LegalEntity.BUSINESS,
        edi_van="PEPPOL",
        billing_address={"line1": "Fakturamottak", "postal_code": "0102", "city": "Oslo"},
    )
    choice = choose(kind="invoice", cust=edi, distribution_type="EInvoiceB2B")
    assert (choice.channel, choice.route) == (Channel.PAPER, PaperRoute.BILLING_ADDRESS)
    assert choice.error == "EInvoiceB2B needs EDIInfo Buyer id, Seller id: missing"
    assert choice.address["line1"] == "Fakturamottak"


def test_einvoice_b2c_asked_without_consent_falls_through_with_the_reason():
    choice = choose(distribution_type="EInvoiceB2C")
    assert choice.channel == Channel.EMAIL
    assert (
        choice.reason
        == "DistributionType EInvoiceB2C but no active consent; default priority: e-mail address known"
    )


@pytest.mark.parametrize("kind", ["payment_demand", "legal_notice"])
def test_payment_demand_goes_on_paper_to_the_legal_address_whatever_else(kind):
    billed = customer(billing_address={"line1": "Postboks 12", "postal_code": "0101", "city": "Oslo"})
    choice = choose(
        kind=kind, cust=billed, consents=[consent(ConsentKind.EINVOICE_B2C_NO)], distribution_type="Email"
    )
    assert (choice.channel, choice.route) == (Channel.PAPER, PaperRoute.LEGAL_ADDRESS)
    assert choice.address["line1"] == "Storgata 1"
    assert choice.reason == f"{kind} goes on paper to the registered address by law"


def test_client_rule_sends_a_kind_on_paper():
    choice = choose(kind="collection_notice", paper_kinds=["collection_notice"])
    assert choice.channel == Channel.PAPER
    assert choice.reason == "collection_notice goes on paper to the registered address by the client's rule"


def test_protected_identity_in_sweden_uses_skatteverkets_route():
    protected = customer(country="SE", protected_identity=True, email="", national_id="198112289874")
    choice = choose(cust=protected, country="SE")
    assert (choice.channel, choice.route) == (Channel.PAPER, PaperRoute.PROTECTED_IDENTITY)
    assert choice.address == {"name": "Kari Nordmann", "national_id": "198112289874", "country": "SE"}
    assert "Skatteverket" in choice.reason
    # Only Sweden has the route: a Norwegian customer's letter goes to the legal address.
    norwegian = choose(cust=customer(protected_identity=True, email=""))
    assert norwegian.route == PaperRoute.LEGAL_ADDRESS


def test_sms_reminder_by_sms_or_archived_without_a_phone():
    choice = choose(kind="sms_reminder")
    assert (choice.channel, choice.address) == (Channel.SMS, {"phone": "+4791234567"})
    none = choose(kind="sms_reminder", cust=customer(phone=""))
    assert (none.channel, none.error) == (Channel.ARCHIVE_ONLY, "no mobile number")


def test_resend_after_return_goes_on_paper_to_the_new_or_registered_address():
    new = {"line1": "Nygata 5", "postal_code": "5003", "city": "Bergen"}
    choice = choose(new_address=new, consents=[consent(ConsentKind.EINVOICE_B2C_NO)])
    assert (choice.channel, choice.route) == (Channel.PAPER, PaperRoute.NEW_ADDRESS)
    assert choice.address["city"] == "Bergen"
    registered = choose(new_address={})
    assert (registered.channel, registered.route) == (Channel.PAPER, PaperRoute.LEGAL_ADDRESS)
    assert registered.reason == "re-sent on paper to the registered postal address after a return"
