"""The portal's translations as one table: English msgid -> (nb, sv, da). `python
invoiceportal/locale/translations.py` writes the three django.po files from it (after makemessages has
listed the msgids); then `manage.py compilemessages`. One table keeps the three languages in step."""

import ast
from pathlib import Path

HERE = Path(__file__).parent

T = {
    "Creditor": ("Kreditor", "Borgenär", "Kreditor"),
    "org. no.": ("org.nr.", "org.nr", "CVR-nr."),
    "Org. no.": ("Org.nr.", "Org.nr", "CVR-nr."),
    "Questions about the invoice:": (
        "Spørsmål om fakturaen:",
        "Frågor om fakturan:",
        "Spørgsmål om fakturaen:",
    ),
    "Questions about the invoice go to %(name)s.": (
        "Spørsmål om fakturaen rettes til %(name)s.",
        "Frågor om fakturan ställs till %(name)s.",
        "Spørgsmål om fakturaen rettes til %(name)s.",
    ),
    "Invoice to": ("Faktura til", "Faktura till", "Faktura til"),
    "Customer number": ("Kundenummer", "Kundnummer", "Kundenummer"),
    "Invoice portal": ("Fakturaportal", "Fakturaportal", "Fakturaportal"),
    "Skip to content": ("Gå til innholdet", "Till innehållet", "Gå til indholdet"),
    "Language": ("Språk", "Språk", "Sprog"),
    "Sign up for %(scheme)s": (
        "Meld deg på %(scheme)s",
        "Anmäl dig till %(scheme)s",
        "Tilmeld dig %(scheme)s",
    ),
    "%(name)s, you are signing up to pay invoices from %(creditor)s by %(scheme)s.": (
        "%(name)s, du melder deg på for å betale fakturaer fra %(creditor)s med %(scheme)s.",
        "%(name)s, du anmäler dig för att betala fakturor från %(creditor)s med %(scheme)s.",
        "%(name)s, du tilmelder dig for at betale fakturaer fra %(creditor)s med %(scheme)s.",
    ),
    "Account to pay from": (
        "Konto det skal trekkes fra",
        "Konto att dra pengarna från",
        "Konto der skal trækkes fra",
    ),
    "Highest amount per payment (optional)": (
        "Høyeste beløp per trekk (valgfritt)",
        "Högsta belopp per dragning (valfritt)",
        "Højeste beløb pr. træk (valgfrit)",
    ),
    "Confirm and sign": ("Bekreft og signer", "Bekräfta och signera", "Bekræft og underskriv"),
    "Cancel": ("Avbryt", "Avbryt", "Annullér"),
    "You are signed up for %(scheme)s": (
        "Du er påmeldt %(scheme)s",
        "Du är anmäld till %(scheme)s",
        "Du er tilmeldt %(scheme)s",
    ),
    "Your next invoices are paid automatically on the due date.": (
        "De neste fakturaene betales automatisk på forfallsdagen.",
        "Dina nästa fakturor betalas automatiskt på förfallodagen.",
        "Dine næste fakturaer betales automatisk på forfaldsdagen.",
    ),
    "Sign-up cancelled": ("Påmeldingen er avbrutt", "Anmälan avbruten", "Tilmeldingen er annulleret"),
    "Nothing was changed.": ("Ingenting ble endret.", "Ingenting ändrades.", "Intet blev ændret."),
    "The sign-up did not succeed": (
        "Påmeldingen lyktes ikke",
        "Anmälan lyckades inte",
        "Tilmeldingen lykkedes ikke",
    ),
    "We could not find you as a customer of this creditor. Please contact the creditor.": (
        "Vi fant deg ikke som kunde hos denne kreditoren. Ta kontakt med kreditor.",
        "Vi hittade dig inte som kund hos denna borgenär. Kontakta borgenären.",
        "Vi kunne ikke finde dig som kunde hos denne kreditor. Kontakt kreditor.",
    ),
    "Continue": ("Fortsett", "Fortsätt", "Fortsæt"),
    "The link you came from had an address we cannot send you back to; you can still sign up here.": (
        "Lenken du kom fra hadde en adresse vi ikke kan sende deg tilbake til; du kan likevel melde deg på her.",
        "Länken du kom från hade en adress vi inte kan skicka dig tillbaka till; du kan ändå anmäla dig här.",
        "Linket, du kom fra, havde en adresse, vi ikke kan sende dig tilbage til; du kan stadig tilmelde dig her.",
    ),
    "With %(scheme)s your invoices from %(name)s are paid from your bank account on the due date. Up to three attempts are made if the account lacks cover.": (
        "Med %(scheme)s betales fakturaene fra %(name)s fra bankkontoen din på forfallsdagen. Mangler det dekning, gjøres inntil tre forsøk.",
        "Med %(scheme)s betalas fakturorna från %(name)s från ditt bankkonto på förfallodagen. Saknas täckning görs upp till tre försök.",
        "Med %(scheme)s betales fakturaerne fra %(name)s fra din bankkonto på forfaldsdagen. Mangler der dækning, forsøges op til tre gange.",
    ),
    "You identify yourself with BankID, choose the account and confirm.": (
        "Du identifiserer deg med BankID, velger konto og bekrefter.",
        "Du legitimerar dig med BankID, väljer konto och bekräftar.",
        "Du identificerer dig med MitID/BankID, vælger konto og bekræfter.",
    ),
    "Identify with BankID": (
        "Identifiser deg med BankID",
        "Legitimera dig med BankID",
        "Identificér dig med BankID",
    ),
    "Back to %(name)s": ("Tilbake til %(name)s", "Tillbaka till %(name)s", "Tilbage til %(name)s"),
    "Invoice %(no)s": ("Faktura %(no)s", "Faktura %(no)s", "Faktura %(no)s"),
    "Thank you. Your objection is registered; the claim is paused while the creditor looks into it.": (
        "Takk. Innsigelsen er registrert; kravet stanses mens kreditor ser på saken.",
        "Tack. Din invändning är registrerad; kravet pausas medan borgenären utreder den.",
        "Tak. Din indsigelse er registreret; kravet standses, mens kreditor ser på sagen.",
    ),
    "Your respite is granted.": ("Du har fått utsettelse.", "Du har fått anstånd.", "Du har fået henstand."),
    "Your request for a respite is registered and will be answered by the creditor.": (
        "Ønsket om utsettelse er registrert og blir besvart av kreditor.",
        "Din begäran om anstånd är registrerad och besvaras av borgenären.",
        "Din anmodning om henstand er registreret og besvares af kreditor.",
    ),
    "Your contact details are updated.": (
        "Kontaktopplysningene er oppdatert.",
        "Dina kontaktuppgifter är uppdaterade.",
        "Dine kontaktoplysninger er opdateret.",
    ),
    "Status": ("Status", "Status", "Status"),
    "Disputed: the claim is paused": (
        "Bestridt: kravet er stanset",
        "Bestridd: kravet är pausat",
        "Bestridt: kravet er standset",
    ),
    "Respite until %(d)s": ("Utsettelse til %(d)s", "Anstånd till %(d)s", "Henstand til %(d)s"),
    "To pay": ("Å betale", "Att betala", "At betale"),
    "by": ("innen", "senast", "senest"),
    "Account number": ("Kontonummer", "Bankgiro", "Kontonummer"),
    "Copied": ("Kopiert", "Kopierat", "Kopieret"),
    "Copy": ("Kopier", "Kopiera", "Kopiér"),
    "Amount": ("Beløp", "Belopp", "Beløb"),
    "Pay now with %(m)s": ("Betal nå med %(m)s", "Betala nu med %(m)s", "Betal nu med %(m)s"),
    "What you owe and why": (
        "Hva du skylder og hvorfor",
        "Vad du är skyldig och varför",
        "Hvad du skylder og hvorfor",
    ),
    "Amounts by component": ("Beløp fordelt", "Belopp per del", "Beløb fordelt"),
    "Principal": ("Hovedstol", "Kapitalbelopp", "Hovedstol"),
    "of which reminder fees charged": ("herav purregebyr", "varav påminnelseavgifter", "heraf rykkergebyrer"),
    "of which collection fees charged": ("herav inkassosalær", "varav inkassoavgifter", "heraf inkassogebyrer"),
    "of which late fee charged": ("herav kompensasjon for forsinket betaling", "varav förseningsersättning",
                                  "heraf kompensation for forsinket betaling"),
    "now: the deadline has passed": ("nå: fristen er passert", "nu: tidsfristen har passerat",
                                     "nu: fristen er overskredet"),
    "Reminder fees charged": ("Purregebyr belastet", "Påminnelseavgifter debiterade", "Rykkergebyrer pålagt"),
    "Collection fees charged": (
        "Inkassosalær belastet",
        "Inkassoavgifter debiterade",
        "Inkassogebyrer pålagt",
    ),
    "Late fee charged": (
        "Forsinkelsesgebyr belastet",
        "Förseningsersättning debiterad",
        "Kompensationsgebyr pålagt",
    ),
    "Fees still open": ("Gebyrer ubetalt", "Obetalda avgifter", "Ubetalte gebyrer"),
    "Interest charged": ("Renter belastet", "Ränta debiterad", "Renter pålagt"),
    "Total to pay": ("Totalt å betale", "Totalt att betala", "I alt at betale"),
    "Late-payment interest accrued to today: %(a)s (at %(r)s %% a year). Pay the amount above and no more interest is charged.": (
        "Forsinkelsesrente påløpt til i dag: %(a)s (%(r)s %% per år). Betaler du beløpet over, belastes ingen mer rente.",
        "Dröjsmålsränta upplupen till i dag: %(a)s (%(r)s %% per år). Betalar du beloppet ovan debiteras ingen mer ränta.",
        "Morarente påløbet til i dag: %(a)s (%(r)s %% om året). Betaler du beløbet ovenfor, pålægges ikke mere rente.",
    ),
    "After the due date, late-payment interest of %(r)s %% a year may be charged.": (
        "Etter forfall kan det påløpe forsinkelsesrente på %(r)s %% per år.",
        "Efter förfallodagen kan dröjsmålsränta på %(r)s %% per år debiteras.",
        "Efter forfald kan der påløbe morarente på %(r)s %% om året.",
    ),
    "Invoice date": ("Fakturadato", "Fakturadatum", "Fakturadato"),
    "Due date": ("Forfallsdato", "Förfallodag", "Forfaldsdato"),
    "Deadline": ("Frist", "Sista dag", "Frist"),
    "Paid so far": ("Betalt til nå", "Betalt hittills", "Betalt indtil nu"),
    "credited": ("kreditert", "krediterat", "krediteret"),
    "Documents": ("Dokumenter", "Dokument", "Dokumenter"),
    "Open PDF": ("Åpne PDF", "Öppna PDF", "Åbn PDF"),
    "Download": ("Last ned", "Ladda ner", "Hent"),
    "No documents yet.": ("Ingen dokumenter ennå.", "Inga dokument ännu.", "Ingen dokumenter endnu."),
    "Something wrong with the invoice?": (
        "Er noe galt med fakturaen?",
        "Är något fel på fakturan?",
        "Er der noget galt med fakturaen?",
    ),
    "Tell us what is wrong": (
        "Fortell hva som er galt",
        "Berätta vad som är fel",
        "Fortæl, hvad der er galt",
    ),
    "Dispute the invoice": ("Bestrid fakturaen", "Bestrid fakturan", "Bestrid fakturaen"),
    "Need more time?": ("Trenger du mer tid?", "Behöver du mer tid?", "Har du brug for mere tid?"),
    "Ask for a respite": ("Be om utsettelse", "Begär anstånd", "Bed om henstand"),
    "%(n)s day": ("%(n)s dag", "%(n)s dag", "%(n)s dag"),
    "%(n)s days": ("%(n)s dager", "%(n)s dagar", "%(n)s dage"),
    "Your contact details": ("Dine kontaktopplysninger", "Dina kontaktuppgifter", "Dine kontaktoplysninger"),
    "E-mail": ("E-post", "E-post", "E-mail"),
    "Mobile phone": ("Mobiltelefon", "Mobiltelefon", "Mobiltelefon"),
    "Save": ("Lagre", "Spara", "Gem"),
    "Easier payment": ("Enklere betaling", "Enklare betalning", "Nemmere betaling"),
    "%(name)s: active": ("%(name)s: aktiv", "%(name)s: aktiv", "%(name)s: aktiv"),
    "%(name)s: not active": ("%(name)s: ikke aktiv", "%(name)s: inte aktiv", "%(name)s: ikke aktiv"),
    "Sign up": ("Meld deg på", "Anmäl dig", "Tilmeld dig"),
    "Sign up in your internet bank": (
        "Meld deg på i nettbanken",
        "Anmäl dig i internetbanken",
        "Tilmeld dig i netbanken",
    ),
    "active": ("aktiv", "aktiv", "aktiv"),
    "not active": ("ikke aktiv", "inte aktiv", "ikke aktiv"),
    "Get Kivra": ("Skaff Kivra", "Skaffa Kivra", "Få Kivra"),
    "Your open invoices": ("Dine åpne fakturaer", "Dina öppna fakturor", "Dine åbne fakturaer"),
    "Total": ("Totalt", "Totalt", "I alt"),
    "Due": ("Forfall", "Förfaller", "Forfald"),
    "You have no open invoices with this creditor.": (
        "Du har ingen åpne fakturaer hos denne kreditoren.",
        "Du har inga öppna fakturor hos denna borgenär.",
        "Du har ingen åbne fakturaer hos denne kreditor.",
    ),
    "Payment": ("Betaling", "Betalning", "Betaling"),
    "Thank you for your payment": ("Takk for betalingen", "Tack för din betalning", "Tak for din betaling"),
    "We have received %(a)s for invoice %(no)s.": (
        "Vi har mottatt %(a)s for faktura %(no)s.",
        "Vi har tagit emot %(a)s för faktura %(no)s.",
        "Vi har modtaget %(a)s for faktura %(no)s.",
    ),
    "The invoice is paid in full.": (
        "Fakturaen er betalt i sin helhet.",
        "Fakturan är betald i sin helhet.",
        "Fakturaen er betalt fuldt ud.",
    ),
    "Reference": ("Referanse", "Referens", "Reference"),
    "Waiting for the payment": ("Venter på betalingen", "Väntar på betalningen", "Venter på betalingen"),
    "We have not heard from the payment service yet. Reload this page in a moment.": (
        "Vi har ikke hørt fra betalingstjenesten ennå. Last inn siden på nytt om litt.",
        "Vi har inte hört från betaltjänsten ännu. Ladda om sidan om en stund.",
        "Vi har ikke hørt fra betalingstjenesten endnu. Genindlæs siden om lidt.",
    ),
    "The payment was not made": (
        "Betalingen ble ikke gjennomført",
        "Betalningen genomfördes inte",
        "Betalingen blev ikke gennemført",
    ),
    "Nothing was charged.": ("Ingenting ble trukket.", "Ingenting drogs.", "Intet blev trukket."),
    "Back to the invoice": ("Tilbake til fakturaen", "Tillbaka till fakturan", "Tilbage til fakturaen"),
    "This invoice is settled": (
        "Denne fakturaen er oppgjort",
        "Denna faktura är reglerad",
        "Denne faktura er betalt",
    ),
    "Too many attempts": ("For mange forsøk", "För många försök", "For mange forsøg"),
    "This link does not open": (
        "Denne lenken kan ikke åpnes",
        "Länken kan inte öppnas",
        "Linket kan ikke åbnes",
    ),
    "Invoice %(no)s is closed: there is nothing more to pay on it.": (
        "Faktura %(no)s er avsluttet: det er ikke mer å betale.",
        "Faktura %(no)s är avslutad: det finns inget mer att betala.",
        "Faktura %(no)s er afsluttet: der er ikke mere at betale.",
    ),
    "Please wait a little and try again.": (
        "Vent litt og prøv igjen.",
        "Vänta en stund och försök igen.",
        "Vent lidt, og prøv igen.",
    ),
    "The link has expired.": ("Lenken er utløpt.", "Länken har gått ut.", "Linket er udløbet."),
    "The link is no longer valid.": (
        "Lenken er ikke lenger gyldig.",
        "Länken är inte längre giltig.",
        "Linket er ikke længere gyldigt.",
    ),
    "The link is not complete or not valid. Please copy the whole link from the e-mail or text message.": (
        "Lenken er ufullstendig eller ugyldig. Kopier hele lenken fra e-posten eller SMS-en.",
        "Länken är ofullständig eller ogiltig. Kopiera hela länken från e-postmeddelandet eller sms:et.",
        "Linket er ufuldstændigt eller ugyldigt. Kopiér hele linket fra e-mailen eller sms'en.",
    ),
    "How to get a new link": ("Slik får du en ny lenke", "Så får du en ny länk", "Sådan får du et nyt link"),
    "Every reminder we send you by e-mail or text message has a new link. You can also ask the creditor named on your invoice or letter to send you one.": (
        "Hver påminnelse vi sender på e-post eller SMS har en ny lenke. Du kan også be kreditoren som står på fakturaen eller brevet, om å sende deg en.",
        "Varje påminnelse vi skickar via e-post eller sms har en ny länk. Du kan också be borgenären som står på fakturan eller brevet att skicka en.",
        "Hver påmindelse, vi sender pr. e-mail eller sms, har et nyt link. Du kan også bede kreditoren på fakturaen eller brevet om at sende dig et.",
    ),
    "Creditor: %(name)s": ("Kreditor: %(name)s", "Borgenär: %(name)s", "Kreditor: %(name)s"),
    "test identification": ("testidentifisering", "testlegitimering", "testidentifikation"),
    "National identity number": ("Fødselsnummer", "Personnummer", "CPR-nummer"),
    "Identify": ("Identifiser", "Legitimera", "Identificér"),
    "test payment service": ("testbetalingstjeneste", "testbetaltjänst", "testbetalingstjeneste"),
    "The payment could not be booked.": (
        "Betalingen kunne ikke bokføres.",
        "Betalningen kunde inte bokföras.",
        "Betalingen kunne ikke bogføres.",
    ),
    "Pay %(a)s for invoice %(no)s?": (
        "Betale %(a)s for faktura %(no)s?",
        "Betala %(a)s för faktura %(no)s?",
        "Betal %(a)s for faktura %(no)s?",
    ),
    "Approve payment": ("Godkjenn betalingen", "Godkänn betalningen", "Godkend betalingen"),
    "Overdue": ("Forfalt", "Förfallen", "Forfalden"),
    "Invoice, not yet overdue": (
        "Faktura, ikke forfalt",
        "Faktura, inte förfallen",
        "Faktura, ikke forfalden",
    ),
    "Reminder (SMS)": ("Påminnelse (SMS)", "Påminnelse (sms)", "Påmindelse (sms)"),
    "Reminder": ("Purring", "Påminnelse", "Rykker"),
    "Collection notice": ("Inkassovarsel", "Inkassovarning", "Inkassovarsel"),
    "In collection: payment demand": (
        "Inkasso: betalingsoppfordring",
        "Inkasso: inkassokrav",
        "Inkasso: inkassobrev",
    ),
    "In collection": ("Til inkasso", "Hos inkasso", "Til inkasso"),
    "Notice before legal action": (
        "Varsel om rettslige skritt",
        "Varning om rättsliga åtgärder",
        "Varsel om retslige skridt",
    ),
    "Legal action": ("Rettslige skritt", "Rättsliga åtgärder", "Retslige skridt"),
    "Long-term surveillance": ("Langtidsovervåking", "Långtidsbevakning", "Langtidsovervågning"),
    "With our collection partner abroad": (
        "Hos vår inkassopartner i utlandet",
        "Hos vår inkassopartner utomlands",
        "Hos vores inkassopartner i udlandet",
    ),
    "Invoice": ("Faktura", "Faktura", "Faktura"),
    "Payment demand": ("Betalingsoppfordring", "Inkassokrav", "Inkassobrev"),
    "Debt summary": ("Sammenstilling av gjeld", "Skuldsammanställning", "Gældsoversigt"),
    "Cost claim": ("Kostnadskrav", "Kostnadskrav", "Omkostningskrav"),
    "Payout notice": ("Utbetalingsmelding", "Utbetalningsbesked", "Udbetalingsmeddelelse"),
    "Late fee notice": ("Forsinkelsesgebyr", "Förseningsersättning", "Kompensationsgebyr"),
    "Please write what is wrong with the invoice.": (
        "Skriv hva som er galt med fakturaen.",
        "Skriv vad som är fel på fakturan.",
        "Skriv, hvad der er galt med fakturaen.",
    ),
    "Please keep the message under 450 characters.": (
        "Meldingen kan ha høyst 450 tegn.",
        "Meddelandet får ha högst 450 tecken.",
        "Beskeden må højst have 450 tegn.",
    ),
    "This invoice is already disputed. We will be in touch.": (
        "Fakturaen er allerede bestridt. Vi tar kontakt.",
        "Fakturan är redan bestridd. Vi hör av oss.",
        "Fakturaen er allerede bestridt. Vi kontakter dig.",
    ),
    "The invoice is disputed; nothing else can be done until the dispute is handled.": (
        "Fakturaen er bestridt; ingenting annet kan gjøres før saken er behandlet.",
        "Fakturan är bestridd; inget annat kan göras förrän ärendet är hanterat.",
        "Fakturaen er bestridt; intet andet kan gøres, før sagen er behandlet.",
    ),
    "This invoice is closed.": (
        "Denne fakturaen er avsluttet.",
        "Denna faktura är avslutad.",
        "Denne faktura er afsluttet.",
    ),
    "Please choose how long a respite you need.": (
        "Velg hvor lang utsettelse du trenger.",
        "Välj hur långt anstånd du behöver.",
        "Vælg, hvor lang henstand du har brug for.",
    ),
    "A respite this long cannot be asked for here. Please contact the creditor.": (
        "Så lang utsettelse kan ikke bes om her. Ta kontakt med kreditor.",
        "Så långt anstånd kan inte begäras här. Kontakta borgenären.",
        "Så lang henstand kan ikke anmodes om her. Kontakt kreditor.",
    ),
    "You have already asked for a respite; it is being handled.": (
        "Du har allerede bedt om utsettelse; den blir behandlet.",
        "Du har redan begärt anstånd; det behandlas.",
        "Du har allerede bedt om henstand; den behandles.",
    ),
    "Please check the e-mail address.": (
        "Sjekk e-postadressen.",
        "Kontrollera e-postadressen.",
        "Kontrollér e-mailadressen.",
    ),
    "Please check the phone number.": (
        "Sjekk telefonnummeret.",
        "Kontrollera telefonnumret.",
        "Kontrollér telefonnummeret.",
    ),
    "Please give an e-mail address or a phone number.": (
        "Oppgi e-postadresse eller telefonnummer.",
        "Ange e-postadress eller telefonnummer.",
        "Angiv e-mailadresse eller telefonnummer.",
    ),
    "There is nothing to pay on this invoice.": (
        "Det er ingenting å betale på denne fakturaen.",
        "Det finns inget att betala på denna faktura.",
        "Der er intet at betale på denne faktura.",
    ),
    "Please check the account number.": (
        "Sjekk kontonummeret.",
        "Kontrollera kontonumret.",
        "Kontrollér kontonummeret.",
    ),
    "Please check the amount.": ("Sjekk beløpet.", "Kontrollera beloppet.", "Kontrollér beløbet."),
    "That could not be done. Please try again or contact the creditor.": (
        "Det lot seg ikke gjøre. Prøv igjen eller kontakt kreditor.",
        "Det gick inte. Försök igen eller kontakta borgenären.",
        "Det kunne ikke lade sig gøre. Prøv igen, eller kontakt kreditor.",
    ),
    "That is not a valid national identity number.": (
        "Det er ikke et gyldig fødselsnummer.",
        "Det är inte ett giltigt personnummer.",
        "Det er ikke et gyldigt CPR-nummer.",
    ),
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _entries(text: str):
    """(comments, msgid, msgid_plural or None, the chunk) per entry of a .po file."""
    for chunk in text.split("\n\n"):
        msgid, plural, field, comments = "", None, None, []
        for row in chunk.splitlines():
            if row.startswith("msgid "):
                msgid, field = ast.literal_eval(row[6:]), "id"
            elif row.startswith("msgid_plural "):
                plural, field = ast.literal_eval(row[13:]), "plural"
            elif row.startswith("msgstr"):
                field = None
            elif row.startswith('"') and field == "id":
                msgid += ast.literal_eval(row)
            elif row.startswith('"') and field == "plural":
                plural += ast.literal_eval(row)
            elif row.startswith("#") and row != "#, fuzzy" and not row.startswith("#| "):
                comments.append(row)
        yield comments, msgid, plural, chunk


def write(language: str, index: int) -> list[str]:
    path = HERE / language / "LC_MESSAGES" / "django.po"
    result, missing = [], []
    for comments, msgid, plural, chunk in _entries(path.read_text(encoding="utf-8")):
        if not msgid:  # the header
            chunk = chunk.replace("#, fuzzy\n", "").replace("charset=CHARSET", "charset=UTF-8")
            result.append(
                chunk.replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);")
            )
            continue
        if msgid not in T or (plural is not None and plural not in T):
            missing.append(msgid)
            continue
        entry = [*comments, f"msgid {_quote(msgid)}"]
        if plural is not None:
            entry += [f"msgid_plural {_quote(plural)}", f"msgstr[0] {_quote(T[msgid][index])}"]
            entry += [f"msgstr[1] {_quote(T[plural][index])}"]
        else:
            entry.append(f"msgstr {_quote(T[msgid][index])}")
        result.append("\n".join(entry))
    path.write_text("\n\n".join(result) + "\n", encoding="utf-8")
    return missing


if __name__ == "__main__":
    for index, language in enumerate(("nb", "sv", "da")):
        missing = write(language, index)
        if missing:
            raise SystemExit(f"{language}: no translation for {missing}")
