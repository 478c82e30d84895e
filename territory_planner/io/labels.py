"""How messages name one account: ``account A1 (Charlotte)`` when the accounts table gives it a name other
than its id, else ``account A1`` (the optimiser's ``TerritoryProblem.unit_label`` names a single account
the same way). Input problems about an account (a point outside every area, a bad edit) use it, so a
planner reads the city or customer, not only a CRM id. An id that names nothing gets the ids it may have
meant (``did_you_mean``): the same id in another case, or as a spreadsheet rewrote it.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable

_NO_NAME = {"", "nan", "none", "<na>"}


def account_label(account_id: object, name: object = "") -> str:
    account = str(account_id).strip()
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return f"account {account}"
    text = str(name).strip()
    named = text.lower() not in _NO_NAME and text != account
    return f"account {account} ({text})" if named else f"account {account}"


AREA_PREFIX = "area:"  # the family the accounts --areas merges into one unit carry (``geo.areas``)


def group_label(family: object) -> str:
    """How messages name a family: ``family F``, or ``area 37067`` for the accounts --areas merged into
    one unit (QA54 F3: "family: joins family area:37067 with R3")."""
    text = str(family)
    return f"area {text.removeprefix(AREA_PREFIX)}" if text.startswith(AREA_PREFIX) else f"family {text}"


def row_ranges(rows: list[int], shown: int = 5) -> str:
    """``2-6, 9, 14-15, ...``: 1-based rows as ranges, the first ``shown`` ranges."""
    ranges: list[list[int]] = []
    for r in rows:
        if ranges and r == ranges[-1][1] + 1:
            ranges[-1][1] = r
        else:
            ranges.append([r, r])
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in ranges[:shown])
    return text + (", ..." if len(ranges) > shown else "")


def first_few(items: Iterable[object], shown: int = 5) -> str:
    """``'a, b, c, d, e, ...'``: the first ``shown`` items joined, and ``...`` when there are more; how
    messages list what they name (accounts, files, territories) without flooding the terminal."""
    listed = [str(item) for item in itertools.islice(items, shown + 1)]
    return ", ".join(listed[:shown]) + (", ..." if len(listed) > shown else "")


def _id_keys(value: str) -> set[str]:
    """Spellings under which two ids are taken for one another in a hint (never for a match): case,
    spaces, Unicode form (compatibility forms too: the full-width ``Ｒ０１`` an East Asian input method
    types, QA61 F9) and a spreadsheet's leading ``'`` aside, a whole number written as a decimal and
    leading zeros."""
    key = unicodedata.normalize("NFKC", value).strip().removeprefix("'").casefold()
    keys = {key}
    if re.fullmatch(r"\d+(\.0+)?", key):
        whole = key.split(".")[0]
        keys |= {whole, whole.lstrip("0") or "0"}
    return keys


def alike_ids(ids: Iterable[object]) -> dict[str, list[str]]:
    """The ids by each spelling of ``_id_keys``, for ``did_you_mean``."""
    out: dict[str, list[str]] = {}
    for i in sorted({str(i) for i in ids}):
        for key in _id_keys(i):
            out.setdefault(key, []).append(i)
    return out


def did_you_mean(value: object, alike: dict[str, list[str]], kind: str) -> str:
    """`` (did you mean '014'? rep ids are matched exactly)`` when ``value`` is an id of ``alike``
    (``alike_ids``) in another case or Unicode form, written as a decimal (``14.0``) or without its leading
    zeros (QA22 M2, M5, M25; QA32 F-x: ``01003`` in an edge list whose units are ``1003``), else ""."""
    found = sorted({a for key in _id_keys(str(value)) for a in alike.get(key, []) if a != str(value)})
    if not found:
        return ""
    return f" (did you mean {' or '.join(repr(a) for a in found)}? {kind} ids are matched exactly)"
