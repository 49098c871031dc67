"""Parsers for incoming bank payment files, all producing one model (BankFile / BankPayment).

- Nets OCR Giro (Norway), read with `netsgiro`; AvtaleGiro files are refused (not_a_payment_file)
- Bankgirot BgMax (Sweden), our own fixed-width parser
- ISO 20022 camt.054 credit notifications (.001.02-.08), read with a hardened lxml parser

Money is Decimal with two places. Pure Python: no Django models, no database.
Writers for test and benchmark files are in `ledger.payments.bankfiles.write`.
"""

from .bgmax import parse_bgmax
from .camt054 import parse_camt054
from .detect import detect_format, open_bank_file, parse_bank_file
from .model import (
    FORMAT_BGMAX,
    FORMAT_CAMT054,
    FORMAT_OCR_GIRO,
    FORMATS,
    BankFile,
    BankFileError,
    BankPayment,
)
from .ocr_giro import parse_ocr_giro

__all__ = [
    "FORMATS",
    "FORMAT_BGMAX",
    "FORMAT_CAMT054",
    "FORMAT_OCR_GIRO",
    "BankFile",
    "open_bank_file",
    "BankFileError",
    "BankPayment",
    "detect_format",
    "parse_bank_file",
    "parse_bgmax",
    "parse_camt054",
    "parse_ocr_giro",
]
