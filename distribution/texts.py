"""The words on documents, e-mails and SMS in Norwegian, Swedish, Danish and English.

Kept as data here (not gettext catalogues) because the language follows the customer's country, not the
operator's, and the administration texts are legal wording from PayEx (seeds/003) that must not drift.
"""

LANGUAGE_BY_COUNTRY = {"NO": "nb", "SE": "sv", "DK": "da"}
LANGUAGES = ("nb", "sv", "da", "en")


def language_for(country: str) -> str:
    """The customer's language: by their country, English for everyone else."""
    return LANGUAGE_BY_COUNTRY.get((country or "").upper(), "en")


# seeds/003 "Administration text", per ledger country; <CompanyName> is the client.
ADMINISTRATION_TEXT = {
    "SE": (
        "Denna fakturafordran administreras av PayEx Sverige AB, 621 88 Visby, Betalning skall ske till "
        "PayEx Sverige AB på angivet bankgiro. Eventuella anmärkningar eller förfrågningar kring fakturan "
        "skall ställas till {company}. Betalning skall vara oss tillhanda senast på förfallodagen. Vid "
        "betalning efter förfallodagen debiteras påminnelseavgift samt dröjsmålsränta enligt räntelagen."
    ),
    "NO": (
        "Denne fakturafordringen administreres av PayEx Norge AS, NO-0106 Oslo, Befriende betaling kan "
        "kun skje til angitt konto innen oppgitt forfallsdato. Eventuelle spørsmål om faktura må rettes "
        "til {company}. Ved betaling etter forfallsdato kan purregebyr og forsinkelsesrente påløpe i "
        "henhold til gjeldende lov."
    ),
    "DK": (
        "Denne faktura administreres af PayEx Danmark A/S, DK-1155 København K, Frigørende betaling kan "
        "kun ske til den angivne konto inden den angivne forfaldsdato. Eventuelle spørgsmål om fakturaen "
        "må rettes til {company}. Ved betaling efter forfald kan rykkergebyr påløbe samt rente i henhold "
        "til gældende lov."
    ),
    # No PayEx wording for other countries in the sources: the same statement in English.
    "": (
        "This invoice claim is administered by PayEx. Payment discharging the debt can only be made to the "
        "account stated by the due date. Questions about the invoice should be addressed to {company}. "
        "Payment after the due date may incur reminder fees and late-payment interest as the law allows."
    ),
}


def administration_text(ledger_country: str, company: str) -> str:
    return ADMINISTRATION_TEXT.get(ledger_country, ADMINISTRATION_TEXT[""]).format(company=company)


TITLES = {
    "nb": {
        "invoice": "Faktura",
        "sms_reminder": "Betalingspåminnelse",
        "reminder": "Purring",
        "collection_notice": "Inkassovarsel",
        "payment_demand": "Betalingsoppfordring",
        "legal_notice": "Varsel om rettslige skritt",
        "debt_summary": "Sammenstilling av gjeld",
        "cost_claim": "Kostnadskrav",
        "payout_notice": "Melding om utbetaling",
        "late_fee_notice": "Krav om kompensasjon for forsinket betaling",
    },
    "sv": {
        "invoice": "Faktura",
        "sms_reminder": "Betalningspåminnelse",
        "reminder": "Påminnelse",
        "collection_notice": "Inkassokrav",
        "payment_demand": "Betalningsuppmaning",
        "legal_notice": "Varsel om rättsliga åtgärder",
        "debt_summary": "Sammanställning av skulder",
        "cost_claim": "Kostnadskrav",
        "payout_notice": "Meddelande om utbetalning",
        "late_fee_notice": "Förseningsersättning",
    },
    "da": {
        "invoice": "Faktura",
        "sms_reminder": "Betalingspåmindelse",
        "reminder": "Rykker",
        "collection_notice": "Inkassovarsel",
        "payment_demand": "Betalingsopfordring",
        "legal_notice": "Varsel om retslige skridt",
        "debt_summary": "Opgørelse af gæld",
        "cost_claim": "Omkostningskrav",
        "payout_notice": "Meddelelse om udbetaling",
        "late_fee_notice": "Kompensation for forsinket betaling",
    },
    "en": {
        "invoice": "Invoice",
        "sms_reminder": "Payment reminder",
        "reminder": "Reminder",
        "collection_notice": "Debt collection notice",
        "payment_demand": "Payment demand",
        "legal_notice": "Notice before legal action",
        "debt_summary": "Summary of debt",
        "cost_claim": "Claim for costs",
        "payout_notice": "Payout notice",
        "late_fee_notice": "Compensation for late payment",
    },
}

LABELS = {
    "nb": {
        "invoice_no": "Fakturanummer",
        "customer_no": "Kundenummer",
        "invoice_date": "Fakturadato",
        "due_date": "Forfallsdato",
        "deadline": "Betalingsfrist",
        "capital": "Hovedstol",
        "fees": "Gebyrer",
        "interest": "Renter",
        "costs": "Kostnader (gebyrer og renter)",
        "step_fee": "Gebyr for dette varselet",
        "total_due": "Å betale",
        "account": "Kontonummer",
        "reference": "KID",
        "interest_rate": "Forsinkelsesrente",
        "interest_from": "Renter beregnes fra",
        "portal": "Se kravet og betal her",
        "payout_amount": "Utbetalt beløp",
        "payout_account": "Til konto",
        "portal_document": "Se dokumentet her",
        "description": "Beskrivelse",
        "amount": "Beløp",
        "intro_reminder": "Vi kan ikke se å ha mottatt betaling for fakturaen nedenfor.",
        "intro_collection_notice": (
            "Kravet nedenfor er ikke betalt. Betales det ikke innen fristen, blir det sendt til inkasso."
        ),
        "intro_payment_demand": "Vi oppfordrer deg til å betale kravet nedenfor innen fristen.",
        "intro_legal_notice": (
            "Kravet er fortsatt ikke betalt. Betales det ikke innen fristen, vil vi begjære utlegg."
        ),
        "intro_debt_summary": "Her er en oversikt over alle dine åpne krav.",
        "intro_cost_claim": "Hovedstolen er betalt, men gebyrer og renter gjenstår.",
        "intro_payout_notice": "Vi har utbetalt et beløp til deg.",
        "intro_late_fee_notice": (
            "Betalingen kom etter forfall. I henhold til loven krever vi kompensasjon for forsinket betaling."
        ),
        "intro_invoice": "",
        "intro_sms_reminder": "Påminnelse: fakturaen er ikke betalt.",
    },
    "sv": {
        "invoice_no": "Fakturanummer",
        "customer_no": "Kundnummer",
        "invoice_date": "Fakturadatum",
        "due_date": "Förfallodag",
        "deadline": "Betala senast",
        "capital": "Kapitalbelopp",
        "fees": "Avgifter",
        "interest": "Ränta",
        "costs": "Kostnader (avgifter och ränta)",
        "step_fee": "Avgift för detta brev",
        "total_due": "Att betala",
        "account": "Bankgiro",
        "reference": "OCR",
        "interest_rate": "Dröjsmålsränta",
        "interest_from": "Ränta räknas från",
        "portal": "Se fakturan och betala här",
        "payout_amount": "Utbetalt belopp",
        "payout_account": "Till konto",
        "portal_document": "Se dokumentet här",
        "description": "Beskrivning",
        "amount": "Belopp",
        "intro_reminder": "Vi har inte fått betalning för fakturan nedan.",
        "intro_collection_notice": "Fakturan nedan är obetald. Betalas den inte i tid går den till inkasso.",
        "intro_payment_demand": "Vi uppmanar dig att betala kravet nedan senast angiven dag.",
        "intro_legal_notice": (
            "Kravet är fortfarande obetalt. Betalas det inte i tid ansöker vi om betalningsföreläggande."
        ),
        "intro_debt_summary": "Här är en sammanställning av alla dina öppna krav.",
        "intro_cost_claim": "Kapitalbeloppet är betalt, men avgifter och ränta återstår.",
        "intro_payout_notice": "Vi har betalat ut ett belopp till dig.",
        "intro_late_fee_notice": "Betalningen kom efter förfallodagen. Enligt lag tar vi ut förseningsersättning.",
        "intro_invoice": "",
        "intro_sms_reminder": "Påminnelse: fakturan är obetald.",
    },
    "da": {
        "invoice_no": "Fakturanummer",
        "customer_no": "Kundenummer",
        "invoice_date": "Fakturadato",
        "due_date": "Forfaldsdato",
        "deadline": "Betalingsfrist",
        "capital": "Hovedstol",
        "fees": "Gebyrer",
        "interest": "Renter",
        "costs": "Omkostninger (gebyrer og renter)",
        "step_fee": "Gebyr for dette brev",
        "total_due": "At betale",
        "account": "Kontonummer",
        "reference": "Betalingsreference",
        "interest_rate": "Morarente",
        "interest_from": "Renter beregnes fra",
        "portal": "Se kravet og betal her",
        "payout_amount": "Udbetalt beløb",
        "payout_account": "Til konto",
        "portal_document": "Se dokumentet her",
        "description": "Beskrivelse",
        "amount": "Beløb",
        "intro_reminder": "Vi har ikke modtaget betaling for fakturaen nedenfor.",
        "intro_collection_notice": "Kravet nedenfor er ikke betalt. Betales det ikke rettidigt, sendes det til inkasso.",
        "intro_payment_demand": "Vi opfordrer dig til at betale kravet nedenfor inden fristen.",
        "intro_legal_notice": "Kravet er stadig ikke betalt. Betales det ikke rettidigt, indleder vi retslige skridt.",
        "intro_debt_summary": "Her er en oversigt over alle dine åbne krav.",
        "intro_cost_claim": "Hovedstolen er betalt, men gebyrer og renter mangler.",
        "intro_payout_notice": "Vi har udbetalt et beløb til dig.",
        "intro_late_fee_notice": "Betalingen kom efter forfald. Efter loven kræver vi kompensation.",
        "intro_invoice": "",
        "intro_sms_reminder": "Påmindelse: fakturaen er ikke betalt.",
    },
    "en": {
        "invoice_no": "Invoice number",
        "customer_no": "Customer number",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "deadline": "Pay by",
        "capital": "Principal",
        "fees": "Fees",
        "interest": "Interest",
        "costs": "Costs (fees and interest)",
        "step_fee": "Fee for this letter",
        "total_due": "Amount due",
        "account": "Account",
        "reference": "Payment reference",
        "interest_rate": "Late-payment interest",
        "interest_from": "Interest runs from",
        "portal": "See the claim and pay here",
        "payout_amount": "Amount paid out",
        "payout_account": "To account",
        "portal_document": "See the document here",
        "description": "Description",
        "amount": "Amount",
        "intro_reminder": "We have not received payment of the invoice below.",
        "intro_collection_notice": "The claim below is unpaid. If it is not paid by the deadline it goes to debt collection.",
        "intro_payment_demand": "We ask you to pay the claim below by the deadline.",
        "intro_legal_notice": "The claim is still unpaid. If it is not paid by the deadline we will take legal action.",
        "intro_debt_summary": "This is a summary of all your open claims.",
        "intro_cost_claim": "The principal is paid, but fees and interest remain.",
        "intro_payout_notice": "We have paid an amount out to you.",
        "intro_late_fee_notice": "Payment came after the due date. As the law allows, we claim compensation.",
        "intro_invoice": "",
        "intro_sms_reminder": "Reminder: the invoice is unpaid.",
    },
}

EMAIL_SUBJECT = {
    "nb": "{title} {invoice_no} fra {company}",
    "sv": "{title} {invoice_no} från {company}",
    "da": "{title} {invoice_no} fra {company}",
    "en": "{title} {invoice_no} from {company}",
}

EMAIL_BODY = {
    "nb": (
        "Hei {name},\n\n{intro}\n\n{total_label}: {total} {currency}\n{due_label}: {due}\n"
        "{reference_label}: {reference}\n\n{portal_label}: {link}\n\n{attachment}Med vennlig hilsen\n{company}\n"
    ),
    "sv": (
        "Hej {name},\n\n{intro}\n\n{total_label}: {total} {currency}\n{due_label}: {due}\n"
        "{reference_label}: {reference}\n\n{portal_label}: {link}\n\n{attachment}Med vänlig hälsning\n{company}\n"
    ),
    "da": (
        "Kære {name},\n\n{intro}\n\n{total_label}: {total} {currency}\n{due_label}: {due}\n"
        "{reference_label}: {reference}\n\n{portal_label}: {link}\n\n{attachment}Med venlig hilsen\n{company}\n"
    ),
    "en": (
        "Dear {name},\n\n{intro}\n\n{total_label}: {total} {currency}\n{due_label}: {due}\n"
        "{reference_label}: {reference}\n\n{portal_label}: {link}\n\n{attachment}Kind regards\n{company}\n"
    ),
}

EMAIL_ATTACHMENT_NOTE = {
    "nb": "Dokumentet er vedlagt som PDF.\n\n",
    "sv": "Dokumentet bifogas som PDF.\n\n",
    "da": "Dokumentet er vedhæftet som PDF.\n\n",
    "en": "The document is attached as a PDF.\n\n",
}

SMS_TEXT = {
    "nb": "{company}: {title} for faktura {invoice_no}, {total} {currency} forfalt {due}. Betal her: {link}",
    "sv": "{company}: {title} för faktura {invoice_no}, {total} {currency} förföll {due}. Betala här: {link}",
    "da": "{company}: {title} for faktura {invoice_no}, {total} {currency} forfaldt {due}. Betal her: {link}",
    "en": "{company}: {title} for invoice {invoice_no}, {total} {currency} due {due}. Pay here: {link}",
}


# Documents that ask for nothing (a payout notice): what happened, no amount due, deadline or reference.
NOTICE_BODY = {
    "nb": "Hei {name},\n\n{intro}\n\n{facts}\n\n{portal_label}: {link}\n\n{attachment}Med vennlig hilsen\n{company}\n",
    "sv": "Hej {name},\n\n{intro}\n\n{facts}\n\n{portal_label}: {link}\n\n{attachment}Med vänlig hälsning\n{company}\n",
    "da": "Kære {name},\n\n{intro}\n\n{facts}\n\n{portal_label}: {link}\n\n{attachment}Med venlig hilsen\n{company}\n",
    "en": "Dear {name},\n\n{intro}\n\n{facts}\n\n{portal_label}: {link}\n\n{attachment}Kind regards\n{company}\n",
}
NOTICE_SMS = {
    "nb": "{company}: {title}. {facts} Se: {link}",
    "sv": "{company}: {title}. {facts} Se: {link}",
    "da": "{company}: {title}. {facts} Se: {link}",
    "en": "{company}: {title}. {facts} See: {link}",
}
NOTICE_KINDS = frozenset({"payout_notice"})
