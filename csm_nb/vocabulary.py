"""Words and codes the files may use, and how messages name a place in a file, in one place.

Currencies are ISO 4217 alphabetic codes in use (December 2026), plus the
fund and metal codes a treasury may report in; ``None`` for an amount always
means "not known yet" (see :mod:`csm_nb.model`).
"""
from __future__ import annotations

NOT_KNOWN = "not known yet"

CURRENCIES: frozenset[str] = frozenset(["AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER", "ZAR", "ZMW", "ZWG"])


def currency_code(value: object) -> str | None:
    """The ISO 4217 code ``value`` names (upper-cased), or ``None`` when it names none.

    >>> currency_code("eur"), currency_code("dollars"), currency_code(5)
    ('EUR', None, None)
    """
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if code in CURRENCIES else None


# -- naming a row in a message -------------------------------------------------------------
class InlineRows(str):
    """The source of rows written in the engagement file itself: a row is named by its line.

    >>> rows = InlineRows("acme.yaml", "cash_flow")
    >>> row_at(rows, 6), row_at("cf.csv", 6)
    ('acme.yaml, line 6: cash_flow', 'cf.csv, row 6')
    """

    source: str
    key: str

    def __new__(cls, source: str, key: str) -> InlineRows:
        made = super().__new__(cls, f"{source}: {key}")
        made.source, made.key = source, key
        return made


def row_at(source: str, number: int) -> str:
    """How a message names row ``number`` of ``source``: ``file, row 3``, or for inline rows ``file, line 12: key``."""
    return f"{source.source}, line {number}: {source.key}" if isinstance(source, InlineRows) else f"{source}, row {number}"
