"""The CUSIN schemas in xsd/: what they accept, what they refuse, and with which message.

Plain pytest functions, no database. Schemas and documents are parsed with the same hardened parser
the importer uses (no entity expansion, no DTD, no network, no huge trees). Every verdict of lxml is
cross-checked with xmlschema, so the schemas do not depend on one library's quirks.

Past 500 lines: a table of what each schema accepts and refuses, rule by rule.
"""

import functools
import io
import re
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
XSD_DIR = ROOT / "xsd"
DATA = Path(__file__).resolve().parent / "data"
SEED_004 = ROOT.parent / "shared" / "seeds" / "004_eafb1a3ab4df96cd.txt"

# The schema is chosen by the root's Version attribute.
CUSIN_SCHEMAS = {"2.0": "cusin-2.0.xsd", "2.1": "cusin-2.1.xsd"}
ALL_SCHEMAS = [*CUSIN_SCHEMAS.values(), "cusin-receipt-1.0.xsd", "cusin-errorlog-1.0.xsd"]
XS = "{http://www.w3.org/2001/XMLSchema}"


def hardened_parser():
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@functools.cache
def lxml_schema(name):
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name), hardened_parser()))


@functools.cache
def xmlschema_schema(name):
    return xmlschema.XMLSchema(str(XSD_DIR / name))


def load(name):
    return etree.parse(str(DATA / name), hardened_parser())


def schema_for(doc):
    """The schema file named by the document's Version attribute (KeyError for an unknown version)."""
    return CUSIN_SCHEMAS[doc.getroot().get("Version")]


def lxml_errors(schema_name, doc):
    schema = lxml_schema(schema_name)
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def reparse(doc):
    return etree.ElementTree(etree.fromstring(etree.tostring(doc), hardened_parser()))


def xmlschema_valid(schema_name, doc):
    return xmlschema_schema(schema_name).is_valid(io.BytesIO(etree.tostring(doc)))


def set_text(xpath, value):
    def mutate(doc):
        nodes = doc.xpath(xpath)
        assert nodes, xpath
        nodes[0].text = value

    return mutate


def set_attr(xpath, name, value):
    def mutate(doc):
        nodes = doc.xpath(xpath)
        assert nodes, xpath
        nodes[0].set(name, value)

    return mutate


def remove(xpath):
    def mutate(doc):
        nodes = doc.xpath(xpath)
        assert nodes, xpath
        nodes[0].getparent().remove(nodes[0])

    return mutate


def rename(xpath, tag):
    def mutate(doc):
        nodes = doc.xpath(xpath)
        assert nodes, xpath
        nodes[0].tag = tag

    return mutate


def duplicate(xpath):
    def mutate(doc):
        nodes = doc.xpath(xpath)
        assert nodes, xpath
        nodes[0].addnext(etree.fromstring(etree.tostring(nodes[0])))

    return mutate


def insert_after(xpath, xml):
    def mutate(doc):
        nodes = doc.xpath(xpath)
        assert nodes, xpath
        nodes[0].addnext(etree.fromstring(xml))

    return mutate


def replace_distribution_date(doc, value):
    """AsSoonAsPossible -> <Date>value</Date>."""
    dd = doc.find("DistributionDate")
    dd.remove(dd.find("AsSoonAsPossible"))
    etree.SubElement(dd, "Date").text = value


SEED = "seed_example_2_0.xml"
FEATURES = "features_2_0.xml"
INVOICE = "//InvoiceWithDistribution"
FIRST_COLUMN = "//SubOrderBlock[@TableType='A7']/ColumnHeadLine/Columns/Column"


# ------------------------------------------------------------------------------ the schemas


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_schema_compiles_in_both_libraries(name):
    lxml_schema(name)
    xmlschema_schema(name)


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_schema_is_closed_and_has_one_root(name):
    """No namespace, no wildcards (typos must fail), and one global element: nothing else can be a root."""
    tree = etree.parse(str(XSD_DIR / name), hardened_parser())
    root = tree.getroot()
    assert root.get("targetNamespace") is None
    assert not tree.findall(f".//{XS}any") and not tree.findall(f".//{XS}anyAttribute")
    assert len(root.findall(f"{XS}element")) == 1


def test_a_cusin_fragment_is_not_a_document():
    doc = etree.ElementTree(etree.fromstring('<Columns><Column ColumnNo="1"><Text/></Column></Columns>'))
    errors = lxml_errors("cusin-2.0.xsd", doc)
    assert errors and "No matching global declaration" in errors[0]


# ------------------------------------------------------------------------- valid documents


def test_seed_example_is_the_documented_example():
    """The data file is seeds 004's last, complete example; only extraction artefacts were repaired."""
    if not SEED_004.exists():
        pytest.skip("seeds not available")
    text = SEED_004.read_text(encoding="utf-8")
    start = text.rindex("<\ufe16xml")
    end = text.index("</CUSIN>", start) + len("</CUSIN>")
    example = text[start:end]
    # 1. '?' extracted as U+FE16 in the XML declaration; 2. indentation extracted as no-break spaces.
    example = example.replace("\ufe16", "?")
    example = re.sub(r"(?m)^\xa0+", lambda m: " " * len(m.group()), example)
    assert "\xa0" not in example
    assert (DATA / SEED).read_text(encoding="utf-8") == example + "\n"


def test_seed_example_validates_against_2_0():
    doc = load(SEED)
    assert schema_for(doc) == "cusin-2.0.xsd"
    assert lxml_errors("cusin-2.0.xsd", doc) == []


def test_xmlschema_agrees_on_seed_example():
    path = str(DATA / SEED)
    assert xmlschema.XMLSchema(str(XSD_DIR / "cusin-2.0.xsd")).is_valid(path)


@pytest.mark.parametrize("name", [SEED, FEATURES, "additions_2_1.xml"])
def test_valid_file_against_the_schema_named_by_its_version(name):
    doc = load(name)
    schema_name = schema_for(doc)
    assert lxml_errors(schema_name, doc) == []
    assert xmlschema_valid(schema_name, doc)


def test_features_file_uses_what_it_claims():
    doc = load(FEATURES)
    for xpath in [
        "//DistributionDate/Date",
        "//InvoiceWithoutDistribution/PaymentRefNo",
        "//InvoiceWithDistribution/DueDate",
        "//InvoiceWithDistribution/InvoiceReferenceText",
        "//Amount/TotalAmount",
        "//CreditInvoice[Amount]/Cause",
        "//CreditInvoice[not(Amount)]/CreditedInvoiceNo",
        "//EDIInfo/VAN",
        "//EDIInfo/BuyerId",
        "//EDIInfo/SellerId",
        "//ProtectedIdentity",
        "//DistributionAddressInfo/PhoneNumber",
        "//PaymentRule[@Rule='UseBGAGSE'][Value='1']",
        "//PaymentRule[@Rule='UseBGAGSE'][Value='0']",
        "//DistributionRule[@Rule='UseEInvoiceB2CSE'][Value='0']",
        "//CUSINInfo[not(CustomerInfo)]",
        "//CUSINInfo[not(Invoices)]",
        "//SubOrderBlock[not(Rows)]",
    ]:
        assert doc.xpath(xpath), xpath


def test_2_0_document_is_valid_2_1_once_relabelled():
    """2.1 is a superset of 2.0."""
    for name in (SEED, FEATURES):
        doc = load(name)
        doc.getroot().set("Version", "2.1")
        assert lxml_errors("cusin-2.1.xsd", doc) == []
        assert xmlschema_valid("cusin-2.1.xsd", doc)


def test_2_1_file_is_not_valid_2_0():
    doc = load("additions_2_1.xml")
    assert schema_for(doc) == "cusin-2.1.xsd"
    errors = lxml_errors("cusin-2.0.xsd", doc)
    assert any("Version" in e and "fixed value" in e for e in errors), errors
    assert not xmlschema_valid("cusin-2.0.xsd", doc)

    # Even with the Version attribute changed, the 2.1-only content is refused by 2.0.
    doc.getroot().set("Version", "2.0")
    errors = "\n".join(lxml_errors("cusin-2.0.xsd", doc))
    for addition in ("UseEInvoiceB2CFI", "InterCompanyCode", "VatType"):
        assert addition in errors
    assert not xmlschema_valid("cusin-2.0.xsd", doc)


def test_unknown_version_has_no_schema():
    doc = load(SEED)
    doc.getroot().set("Version", "3.0")
    with pytest.raises(KeyError):
        schema_for(doc)


VALID_VARIANTS = {
    "column 12": (SEED, set_attr(FIRST_COLUMN, "ColumnNo", "12")),
    "empty column text": (SEED, set_text(FIRST_COLUMN + "/Text", "")),
    "whole amounts": (SEED, set_text("//AmountExclVat", "1000")),
    "distribution date": (SEED, lambda doc: replace_distribution_date(doc, "2026-12-24")),
    "other ISO country": (SEED, set_text("//Address/CountryCode", "GB")),
    "empty CustomerInfo and Invoices": (SEED, lambda doc: _empty_customer(doc)),
    "no print blocks": (SEED, remove("//InvoiceWithDistribution/DistributionInfo")),
    "no order rows": (SEED, remove("//SubOrderBlock[@TableType='A7']/Rows")),
    "protected identity false": (FEATURES, set_text("//ProtectedIdentity", "false")),
}


def _empty_customer(doc):
    info = doc.find("CUSINInfo")
    for child in ("CustomerInfo", "Invoices"):
        old = info.find(child)
        new = etree.Element(child)
        new.tail = old.tail
        info.replace(old, new)


@pytest.mark.parametrize("case", VALID_VARIANTS, ids=list(VALID_VARIANTS))
def test_valid_variants(case):
    name, mutate = VALID_VARIANTS[case]
    doc = load(name)
    mutate(doc)
    assert lxml_errors("cusin-2.0.xsd", doc) == []
    assert xmlschema_valid("cusin-2.0.xsd", doc)


# ----------------------------------------------------------------------- invalid documents

# case: (base file, mutation, substrings the first lxml error must contain)
INVALID = {
    "missing InvoiceNo": (SEED, remove(INVOICE + "/InvoiceNo"), ["InvoiceDate", "Expected is ( InvoiceNo )"]),
    "ColumnNo 13": (SEED, set_attr(FIRST_COLUMN, "ColumnNo", "13"), ["ColumnNo", "'13'"]),
    "ColumnNo 0": (SEED, set_attr(FIRST_COLUMN, "ColumnNo", "0"), ["ColumnNo", "'0'"]),
    "bad date": (SEED, set_text(INVOICE + "/InvoiceDate", "07.12.2017"), ["InvoiceDate", "xs:date"]),
    "impossible date": (SEED, set_text(INVOICE + "/InvoiceDate", "2017-02-30"), ["InvoiceDate", "xs:date"]),
    "amount with 3 decimals": (
        SEED,
        set_text("//AmountExclVat", "1000.005"),
        ["AmountExclVat", "fractionDigits"],
    ),
    "amount with decimal comma": (
        SEED,
        set_text("//VatAmount", "250,00"),
        ["VatAmount", "'250,00'", "MoneyType"],
    ),
    "amount with 19 digits": (
        SEED,
        set_text("//VatAmount", "12345678901234567.01"),
        ["VatAmount", "totalDigits"],
    ),
    "negative amount": (SEED, set_text("//VatAmount", "-250.00"), ["VatAmount", "minInclusive"]),
    "currency lowercase": (SEED, set_attr("//Amount", "Currency", "sek"), ["Currency", "'sek'"]),
    "DistributionsRule typo (seeds 002)": (
        FEATURES,
        rename("//DistributionRule", "DistributionsRule"),
        ["DistributionsRule", "not expected"],
    ),
    "DistributionsRules typo (seeds 002)": (
        FEATURES,
        rename("//DistributionRules", "DistributionsRules"),
        ["DistributionsRules", "not expected"],
    ),
    "lowercase value (seeds 002)": (
        FEATURES,
        rename("//DistributionRule/Value", "value"),
        ["value", "not expected"],
    ),
    "unknown element": (SEED, insert_after("//CustomerInfo/Name", "<Nickname>Fn</Nickname>"), ["Nickname"]),
    "wrong Version for the schema": (
        SEED,
        set_attr("/CUSIN", "Version", "2.1"),
        ["Version", "fixed value constraint '2.0'"],
    ),
    "missing Version": (SEED, lambda doc: doc.getroot().attrib.pop("Version"), ["Version", "required"]),
    "CompanyNo not digits": (SEED, set_attr("/CUSIN", "CompanyNo", "TC-9999"), ["CompanyNo"]),
    "CreatedDateTime without time": (
        SEED,
        set_attr("/CUSIN", "CreatedDateTime", "2017-12-07"),
        ["CreatedDateTime"],
    ),
    "LegalEntity Company": (
        SEED,
        insert_after("//CustomerInfo/Name", "<LegalEntity>Company</LegalEntity>"),
        ["LegalEntity", "'Company'"],
    ),
    "RegNo without CountryCode": (
        SEED,
        lambda doc: doc.find(".//RegNo").attrib.pop("CountryCode"),
        ["RegNo", "CountryCode", "required"],
    ),
    "country name": (SEED, set_text("//Address/CountryCode", "Sweden"), ["CountryCode", "'Sweden'"]),
    "two legal addresses": (
        SEED,
        set_attr("//Address[@AddressType='BillingAddress']", "AddressType", "LegalAddress"),
        ["Address", "Duplicate key-sequence ['LegalAddress']"],
    ),
    "address without city": (SEED, remove("//Address/City"), ["CoAddress", "Expected is ( City )"]),
    "unknown payment rule": (SEED, set_attr("//PaymentRule", "Rule", "UseBGAGNO"), ["Rule", "'UseBGAGNO'"]),
    "rule value 2": (SEED, set_text("//PaymentRule/Value", "2"), ["Value", "'2'"]),
    "unknown DistributionType": (SEED, set_text("//DistributionType", "Fax"), ["DistributionType", "'Fax'"]),
    "unknown bill type": (
        SEED,
        set_attr("//BillType", "DistributionBillType", "Invoice"),
        ["DistributionBillType"],
    ),
    "empty BillType": (SEED, remove("//BillType/DistributionType"), ["BillType", "Missing child element"]),
    "ProtectedIdentity yes": (
        FEATURES,
        set_text("//ProtectedIdentity", "yes"),
        ["ProtectedIdentity", "xs:boolean"],
    ),
    "bad e-mail": (SEED, set_text("//E-MailAddress", "test.test.com"), ["E-MailAddress"]),
    "phone with letters": (FEATURES, set_text("//PhoneNumber", "call me"), ["PhoneNumber"]),
    "DistributionDate empty": (
        SEED,
        remove("//AsSoonAsPossible"),
        ["DistributionDate", "Missing child element"],
    ),
    "DistributionDate not a date": (
        SEED,
        lambda doc: replace_distribution_date(doc, "ASAP"),
        ["Date", "xs:date"],
    ),
    "AsSoonAsPossible with text": (SEED, set_text("//AsSoonAsPossible", "yes"), ["AsSoonAsPossible"]),
    "no CUSINInfo": (SEED, remove("//CUSINInfo"), ["CUSIN", "Missing child element"]),
    "missing CustomerNo": (SEED, remove("//CustomerNo"), ["CustomerInfo", "Expected is ( CustomerNo )"]),
    "PaymentRefNo with letters": (FEATURES, set_text("//PaymentRefNo", "5123450001234X"), ["PaymentRefNo"]),
    "PaymentRefNo 26 digits": (FEATURES, set_text("//PaymentRefNo", "1" * 26), ["PaymentRefNo"]),
    "InvoiceWithoutDistribution without PaymentRefNo": (
        FEATURES,
        remove("//InvoiceWithoutDistribution/PaymentRefNo"),
        ["InvoiceReferenceText", "PaymentRefNo"],
    ),
    "InvoiceWithoutDistribution without DueDate": (
        FEATURES,
        remove("//InvoiceWithoutDistribution/DueDate"),
        ["Amount", "Expected is ( DueDate )"],
    ),
    "credit without CreditedInvoiceNo": (
        FEATURES,
        remove("//CreditInvoice[Amount]/CreditedInvoiceNo"),
        ["Amount", "CreditedInvoiceNo"],
    ),
    "unknown credit cause": (
        FEATURES,
        set_text("//CreditInvoice/Cause", "Goodwill"),
        ["Cause", "'Goodwill'"],
    ),
    "2.1 element in 2.0": (
        SEED,
        insert_after(INVOICE + "/Amount", "<VatType>S</VatType>"),
        ["VatType", "not expected"],
    ),
    "2.1 rule in 2.0": (
        FEATURES,
        set_attr("//DistributionRule", "Rule", "UseEInvoiceB2CFI"),
        ["'UseEInvoiceB2CFI'"],
    ),
    "elements out of order": (
        SEED,
        lambda doc: doc.find(".//CustomerInfo").insert(0, doc.find(".//CustomerInfo/RegNo")),
        ["Name", "not expected"],
    ),
}


@pytest.mark.parametrize("case", INVALID, ids=list(INVALID))
def test_invalid_document_fails_with_a_useful_message(case):
    name, mutate, expected = INVALID[case]
    doc = load(name)
    assert lxml_errors("cusin-2.0.xsd", doc) == []  # the base is valid: the mutation is the fault
    mutate(doc)
    doc = reparse(doc)  # so that every element, also the inserted ones, has its line number
    errors = lxml_errors("cusin-2.0.xsd", doc)
    assert errors, f"{case}: accepted"
    first = errors[0]
    for fragment in expected:
        assert fragment in first, f"{case}: {fragment!r} not in {first!r}"
    assert re.match(r"line [1-9][0-9]*: ", first), first
    assert not xmlschema_valid("cusin-2.0.xsd", doc), f"{case}: xmlschema accepted it"


def test_error_points_at_the_faulty_line():
    doc = load(SEED)
    doc.xpath(INVOICE + "/InvoiceDate")[0].text = "2017-12-32"
    errors = lxml_errors("cusin-2.0.xsd", doc)
    line = doc.xpath(INVOICE + "/InvoiceDate")[0].sourceline
    assert errors[0].startswith(f"line {line}: Element 'InvoiceDate'")


def test_2_1_rejects_invalid_2_1_values():
    doc = load("additions_2_1.xml")
    doc.xpath("//VatType")[0].text = "25"
    errors = lxml_errors("cusin-2.1.xsd", doc)
    assert errors and "VatType" in errors[0]
    doc = load("additions_2_1.xml")
    doc.xpath("//InterCompanyCode")[0].text = "group company 2"
    errors = lxml_errors("cusin-2.1.xsd", doc)
    assert errors and "InterCompanyCode" in errors[0]


# ----------------------------------------------------------------------- receipt and error log


@pytest.mark.parametrize(
    "schema_name, name",
    [("cusin-receipt-1.0.xsd", "receipt_sample.xml"), ("cusin-errorlog-1.0.xsd", "errorlog_sample.xml")],
)
def test_sample_validates(schema_name, name):
    doc = load(name)
    assert lxml_errors(schema_name, doc) == []
    assert xmlschema_valid(schema_name, doc)


REJECTED_RECEIPT = """<CUSINReceipt>
  <FileName>cusin 9999.xml</FileName>
  <CompanyNo>9999</CompanyNo>
  <Status>Rejected</Status>
  <PassedXSDValidation>false</PassedXSDValidation>
  <NoOfCustomers>0</NoOfCustomers>
  <NoOfInvoices>0</NoOfInvoices>
  <NoOfFailedCustomers>0</NoOfFailedCustomers>
  <NoOfFailedInvoices>0</NoOfFailedInvoices>
  <TotalInvoiceAmount>0.00</TotalInvoiceAmount>
  <ProcessedDateTime>2026-01-15T08:31:12Z</ProcessedDateTime>
</CUSINReceipt>"""


def test_rejected_receipt_without_distribution_date_validates():
    doc = etree.ElementTree(etree.fromstring(REJECTED_RECEIPT))
    assert lxml_errors("cusin-receipt-1.0.xsd", doc) == []
    assert xmlschema_valid("cusin-receipt-1.0.xsd", doc)


@pytest.mark.parametrize("value", ["AsSoonAsPossible", "2026-01-20"])
def test_receipt_pre_distribution_date_forms(value):
    doc = load("receipt_sample.xml")
    doc.find("PreDistributionDate").text = value
    assert lxml_errors("cusin-receipt-1.0.xsd", doc) == []


@pytest.mark.parametrize(
    "xpath, value, fragment",
    [
        ("Status", "OK", "Status"),
        ("PassedXSDValidation", "yes", "PassedXSDValidation"),
        ("PreDistributionDate", "ASAP", "PreDistributionDate"),
        ("NoOfInvoices", "-1", "NoOfInvoices"),
        ("TotalInvoiceAmount", "13500.005", "TotalInvoiceAmount"),
        ("FileName", "../CUSIN_9999_20260115083000_2.xml", "FileName"),
    ],
)
def test_invalid_receipt(xpath, value, fragment):
    doc = load("receipt_sample.xml")
    doc.find(xpath).text = value
    errors = lxml_errors("cusin-receipt-1.0.xsd", doc)
    assert errors and fragment in errors[0]
    assert not xmlschema_valid("cusin-receipt-1.0.xsd", doc)


def test_error_log_without_errors_validates():
    doc = load("errorlog_sample.xml")
    doc.getroot().remove(doc.find("Error"))
    assert lxml_errors("cusin-errorlog-1.0.xsd", doc) == []


@pytest.mark.parametrize(
    "xpath, value, fragment",
    [
        ("Error/Line", "0", "Line"),
        ("Error/Code", "duplicate bill no", "Code"),
        ("Error/Message", "", "Message"),
    ],
)
def test_invalid_error_log(xpath, value, fragment):
    doc = load("errorlog_sample.xml")
    doc.find(xpath).text = value
    errors = lxml_errors("cusin-errorlog-1.0.xsd", doc)
    assert errors and fragment in errors[0]
    assert not xmlschema_valid("cusin-errorlog-1.0.xsd", doc)


def test_error_log_lists_the_known_codes():
    """Code is a free token; the known codes are listed in the schema's annotation."""
    text = (XSD_DIR / "cusin-errorlog-1.0.xsd").read_text(encoding="utf-8")
    for code in [
        "DuplicateBillNo",
        "InvalidRegNo",
        "InvalidAddress",
        "InvalidEdiId",
        "MissingMandatoryField",
        "InvalidPaymentRefNo",
        "PaymentRefNoInUse",
        "AmountMismatch",
        "CurrencyMismatch",
        "SchemaViolation",
        "MalformedXml",
        "ForbiddenXmlConstruct",
        "FileTooLarge",
        "InvalidFileName",
        "SerialReused",
        "UnknownCompanyNo",
        "DuplicateFile",
        "TooManyInvoices",
        "UnknownInvoice",
        "CreditExceedsOpen",
    ]:
        assert code in text
        doc = load("errorlog_sample.xml")
        doc.find("Error/Code").text = code
        assert lxml_errors("cusin-errorlog-1.0.xsd", doc) == []
