"""The unit money amounts are shown in: ``--currency`` (scenario key ``currency``).

Three forms, checked by ``parse_currency``:

- a currency symbol, written before the amount with no space: ``€`` -> ``€1,234``; a symbol may carry up
  to three letters in front (``R$``, ``US$``, ``HK$``);
- an ISO 4217 code, upper-cased and written before the amount with a space: ``eur`` -> ``EUR 1,234``
  (a no-break space, so a table cell never wraps between the code and the amount);
- ``none`` (or an empty value): plain numbers, for a potential that is not money (population, visits).

The value reaches the formatting of one render through ``currency_context`` (a ``ContextVar``), so two
runs in one process, or two threads, never see each other's currency. Outside any context it is ``$``.

Only money carries the currency: ``is_money`` says which plan columns and measures are money (potential,
revenue, quotas, amounts, pipeline), for the report, the map, the workbook and compare.html alike;
workload, counts and km stay plain numbers. ``excel_format`` is the same convention as an Excel number
format.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from territory_planner.errors import COMMAND_LINE, InputError, Problem

DEFAULT_CURRENCY = "$"
NONE_WORDS = ("", "none")
HELP = (
    "a symbol written before the amount (€, £, $, R$), an ISO 4217 code (EUR, INR) or none for plain numbers"
)

#: Plan columns and balance measures that hold money (a ``_target`` column is money when its measure is).
MONEY_COLUMNS = frozenset({"potential", "revenue", "quota", "suggested_quota", "amount", "pipeline"})

_current: ContextVar[str] = ContextVar("territory_planner_currency", default=DEFAULT_CURRENCY)


def _is_symbol(text: str) -> bool:
    """One Unicode currency sign (category Sc), after at most three ASCII letters: €, ₹, R$, US$."""
    if not 1 <= len(text) <= 4 or unicodedata.category(text[-1]) != "Sc":
        return False
    letters = text[:-1]
    return letters == "" or (letters.isascii() and letters.isalpha())


def _is_iso_code(text: str) -> bool:
    if len(text) != 3 or not (text.isascii() and text.isalpha()):
        return False
    import pycountry

    return pycountry.currencies.get(alpha_3=text.upper()) is not None


def parse_currency(value: object, source: str = COMMAND_LINE) -> str:
    """The canonical currency for ``value``: the symbol, the upper-case ISO code, or "" for none.

    Raises ``InputError`` naming ``--currency`` for anything else (a misspelt code, a word, a number).
    """
    text = "" if value is None else str(value).strip()
    if text.lower() in NONE_WORDS:
        return ""
    if _is_symbol(text):
        return text
    if _is_iso_code(text):
        return text.upper()
    raise InputError(
        Problem(
            source,
            None,
            "currency",
            f"--currency (scenario key currency) {text!r} is not a currency: give {HELP}",
            value=text,
        )
    )


def currency_prefix(currency: str | None = None) -> str:
    """What is written before an amount: "€", "EUR " (a code is followed by a no-break space) or ""."""
    c = _current.get() if currency is None else currency
    return f"{c}\N{NO-BREAK SPACE}" if c.isalpha() else c


def is_money(column: str) -> bool:
    """Whether a plan column or measure holds money: ``potential``, ``revenue_target``, ``quota``; not
    ``workload``, ``accounts``, ``travel_km`` or ``potential_dev_pct``."""
    return column.lower().removesuffix("_target") in MONEY_COLUMNS


def excel_format(currency: str, number: str = "#,##0") -> str:
    """The Excel number format showing ``number`` in ``currency``, as the report writes amounts:
    ``"€"#,##0`` (a symbol, quoted so Excel takes it literally), ``[$EUR] #,##0`` (an ISO code, Excel's
    own form for currency codes) or ``#,##0`` (none). Negative amounts read ``-€1,234``."""
    if not currency:
        return number
    if currency.isalpha():
        return f"[${currency}] {number}"
    return f'"{currency}"{number}'


@contextmanager
def currency_context(currency: str) -> Iterator[None]:
    """Format money in ``currency`` (a value from ``parse_currency``) inside the block, then restore."""
    token = _current.set(currency)
    try:
        yield
    finally:
        _current.reset(token)


# the ISO codes a currency sign stands for (a sign not listed is not compared)
_SIGN_CODES = {
    "$": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "TWD"},
    "US$": {"USD"}, "€": {"EUR"}, "£": {"GBP"}, "¥": {"JPY", "CNY"}, "₹": {"INR"}, "R$": {"BRL"},
    "₩": {"KRW"}, "₽": {"RUB"}, "₺": {"TRY"}, "₱": {"PHP"}, "₦": {"NGN"}, "₫": {"VND"}, "₪": {"ILS"},
    "฿": {"THB"},
}  # fmt: skip


def mismatch(shown: str, code: str | None, source: str) -> str | None:
    """A warning when money is written in ``shown`` (a sign or an ISO code) while the amounts are in
    ``code`` (an ISO code, e.g. a CRM's currency column) and the two differ: there are no exchange rates
    here, so the amounts would be relabelled, not converted (QA27 F18: a CRM's USD shown with €)."""
    if not code or not shown:
        return None
    code = code.strip().upper()
    same = shown.upper() == code if _is_iso_code(shown) else code in _SIGN_CODES.get(shown, {code})
    if same:
        return None
    return (
        f"the amounts of {source} are in {code}, and money is written with {shown} (the plan's currency or "
        f"--currency): nothing is converted, so these are {code} amounts under another sign; give "
        f"--currency {code} to write them as they are"
    )


def plan_currency(summary: dict[str, object]) -> str:
    """The currency a plan folder was made with (``summary.json`` -> config), ``$`` for older plans."""
    config = summary.get("config")
    value = config.get("currency") if isinstance(config, dict) else None
    return DEFAULT_CURRENCY if value is None else parse_currency(value, source="summary.json")


def chosen_currency(given: str | None, summary: dict[str, object] | None) -> str:
    """The currency to render in: the one given, else the plan's (``summary``), else ``$``."""
    if given is not None:
        return given
    return plan_currency(summary) if summary is not None else DEFAULT_CURRENCY
