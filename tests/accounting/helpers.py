"""Readers the accounting tests check the written files with: independent of the writers."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import xmlschema

XSD = Path(__file__).resolve().parents[2] / "xsd"


def valid_xml(path: Path, schema: str) -> dict:
    """Validate with the xmlschema package (not lxml, which the writers use) and return the document."""
    xsd = xmlschema.XMLSchema(str(XSD / schema))
    xsd.validate(str(path))
    return xsd.to_dict(str(path), decimal_type=Decimal)


def csv_records(path: Path) -> tuple[list[dict], list[str]]:
    """(D records as dicts, the T trailer) of an Accounting Detail CSV."""
    text = path.read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header, details, trailer = rows[0], rows[1:-1], rows[-1]
    assert trailer[0] == "T" and all(r[0] == "D" for r in details)
    return [dict(zip(header, r, strict=True)) for r in details], trailer


def parse_sie4(data: bytes) -> dict:
    """A small SIE 4 reader: CP437, CR LF, labels, #KONTO, one #VER block with its #TRANS rows."""
    text = data.decode("cp437")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    labels, accounts, vouchers, current = {}, {}, [], None
    for line in text.split("\r\n")[:-1]:
        stripped = line.strip()
        if stripped == "{":
            current = vouchers[-1]
            continue
        if stripped == "}":
            current = None
            continue
        label, _, rest = stripped.partition(" ")
        if label == "#KONTO":
            number, _, name = rest.partition(" ")
            accounts[number] = name.strip('"')
        elif label == "#VER":
            vouchers.append({"head": rest, "trans": []})
        elif label == "#TRANS":
            assert current is not None, "#TRANS outside a voucher"
            number, objects, amount = rest.split(" ")[:3]
            assert objects == "{}"
            current["trans"].append((number, Decimal(amount)))
        else:
            labels[label] = rest
    return {"labels": labels, "accounts": accounts, "vouchers": vouchers}
