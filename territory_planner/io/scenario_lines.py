"""Where a scenario file writes each key: tomllib keeps no positions, so problems found in the values
(``options.build_options``) get their file and line from a scan of the text (``key_lines``, ``locate``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from territory_planner.errors import Problem

TABLE_OPTIONS = ("district_tolerance", "region_tolerance", "tolerance")  # per-measure tables; longest first
ADDED_REPS = "scenario [[reps.add]]"  # the file a problem of a rep the scenario adds names, until located
_ADDED = re.compile(r"^reps\.add\[(\d+)\](?:\.(.+))?$")

_PART = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)"""
_DOTTED = _PART + r"(?:\s*\.\s*" + _PART + r")*"
_HEADER_LINE = re.compile(r"^\s*(\[\[?)\s*(" + _DOTTED + r")\s*\]\]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(r"^\s*(" + _DOTTED + r")\s*=(.*)$")


def _key_path(text: str) -> tuple[str, ...]:
    return tuple(
        next(g for g in m.groups() if g is not None)
        for m in re.finditer(r"""(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))""", text)
    )


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line (1-based) where each key of a TOML text is written, by its path: ``("seed",)``,
    ``("tolerance",)`` (the table's header, or its first dotted key), ``("tolerance", "potential")``;
    the n-th ``[[reps.add]]`` table's keys as ``("reps", "add", "[n]", "rep_id")``. tomllib keeps no
    positions, so the text is scanned line by line: lines inside a multi-line string or array are skipped
    (brackets inside strings there can mislead the count), keys of inline tables are not found (their
    problems then have no line)."""
    out: dict[tuple[str, ...], int] = {}
    prefix: tuple[str, ...] = ()
    counts: dict[tuple[str, ...], int] = {}
    open_quote, depth = "", 0  # inside a multi-line string; brackets open in a multi-line array
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote:
            if line.count(open_quote) % 2 == 1:
                open_quote = ""
            continue
        if depth > 0:
            depth += line.count("[") - line.count("]")
            continue
        header = _HEADER_LINE.match(line)
        if header:
            path = _key_path(header.group(2))
            out.setdefault(path, number)
            if header.group(1) == "[[":
                counts[path] = counts.get(path, 0) + 1
                prefix = (*path, f"[{counts[path]}]")
                out.setdefault(prefix, number)
            else:
                prefix = path
            continue
        assignment = _KEY_LINE.match(line)
        if not assignment:
            continue
        path = (*prefix, *_key_path(assignment.group(1)))
        for end in range(len(prefix) + 1, len(path) + 1):
            out.setdefault(path[:end], number)
        rest = assignment.group(2)
        open_quote = next((q for q in ('"""', "'''") if rest.count(q) % 2 == 1), "")
        depth = 0 if open_quote else rest.split("#")[0].count("[") - rest.split("#")[0].count("]")
    return out


def as_written(text_lines: list[str], line: int | None) -> str:
    """The value of the ``key = value`` on ``line`` (1-based) as the file writes it, without its comment:
    ``10``, ``"abc"``, ``["R07"]``; "" for a table header or a value that goes on over more lines (a
    problem's ``value`` cell shows the cell as written, QA15 M7)."""
    if line is None or not 1 <= line <= len(text_lines):
        return ""
    assignment = _KEY_LINE.match(text_lines[line - 1])
    if assignment is None:
        return ""
    rest = assignment.group(2)
    for end in [i for i, c in enumerate(rest) if c == "#"] + [len(rest)]:
        try:
            tomllib.loads("v = " + rest[:end])
        except tomllib.TOMLDecodeError:
            continue
        return rest[:end].strip()
    return ""


_EXTENDS = re.compile(r"""^\s*extends\s*=\s*["']([^"'\n]+)["']""", re.MULTILINE)


def chain_texts(path: Path) -> list[tuple[Path, str, str]]:
    """Each file of a scenario's ``extends`` chain, child first, as far as it can be read: (its resolved
    path, its name in problems, its text; "" for a file that is missing or cannot be read, which ends the
    chain). A file that is no valid TOML still names its parent by its ``extends =`` line."""
    out: list[tuple[Path, str, str]] = []
    shown, current = str(path), Path(path).resolve()
    while current not in {p for p, _, _ in out}:
        try:
            text = current.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):  # missing, a folder, not UTF-8
            out.append((current, shown, ""))
            break
        out.append((current, shown, text))
        try:
            parent = tomllib.loads(text).get("extends")
        except tomllib.TOMLDecodeError:  # the load reports it; its parent is part of the chain all the same
            found = _EXTENDS.search(text)
            parent = found.group(1) if found else None
        if not isinstance(parent, str):
            break
        current = (current.parent / parent).resolve()
        shown = str(current)
    return out


def _chain_lines(path: Path) -> list[tuple[str, dict[tuple[str, ...], int], list[str]]]:
    """Each file of a scenario's chain, child first: its name in problems, its keys' lines, its text."""
    return [(shown, key_lines(text), text.splitlines()) for _, shown, text in chain_texts(path)]


_FLAT_KEYS = {"reps": ("reps", "path"), "reps_add": ("reps", "add"), "reps_remove": ("reps", "remove")}


def locate(path: Path | str, problems: list[Problem]) -> list[Problem]:
    """The problems of a scenario's values (``build_options``: file = the scenario as given, no row) with
    the file of its chain that writes the key and the line: the child's when both do, as it wins. A
    tolerance's problem about one measure (its value) points at that measure's line. A problem without a
    value gets the value as that line writes it (``district_tolerance = "abc"``). Sorted by file (child
    first) and line."""
    chain = _chain_lines(Path(path))
    out = []
    for p in problems:
        if p.file != str(path) or p.row is not None or not p.column:
            out.append(p)
            continue
        key = p.column
        paths = [_FLAT_KEYS.get(key, (key,)), (key.replace("_", "-"),)]
        measure = (key, p.value) if key in TABLE_OPTIONS and p.value else None
        if measure is not None:
            paths.insert(0, measure)
        if key in _FLAT_KEYS:
            paths.append((key.split("_")[0],))
        where = next(
            ((k, shown, lines[k], text) for k in paths for shown, lines, text in chain if k in lines),
            None,
        )
        if where is None:
            out.append(p)
            continue
        found, shown, line, text = where
        # a measure's line: its value as written there (the problem's value only named the measure)
        value = as_written(text, line) if found == measure or not p.value else p.value
        out.append(Problem(shown, line, p.column, p.message, value))
    files = [shown for shown, _, _ in chain]

    def order(p: Problem) -> tuple[int, float]:  # file by file down the chain, line by line
        if p.file not in files:
            return len(files), 0  # the command line's, after the files' (in the order found)
        return files.index(p.file), float("inf") if p.row is None else p.row

    return sorted(out, key=order)


def locate_added(path: Path | str | None, problems: list[Problem]) -> list[Problem]:
    """The problems of the reps a scenario adds (named ``ADDED_REPS``, column ``reps.add[k].key``, k counted
    along the chain with the root's tables first, as they are merged) with the file of the chain that
    writes that ``[[reps.add]]`` table and the key's line (QA44 F10: no file and no row, so that along an
    ``extends`` chain the planner could not tell where the rep was). A table written inline
    (``add = [{...}]``) has no line of its own: its problem names the first file's ``[reps]`` line."""
    if path is None or not any(p.file == ADDED_REPS for p in problems) or not Path(path).is_file():
        return problems
    tables: list[tuple[str, dict[tuple[str, ...], int], list[str], str]] = []
    for shown, lines, text in reversed(_chain_lines(Path(path))):  # the root's rows are merged first
        try:
            reps = tomllib.loads("\n".join(text)).get("reps")
        except tomllib.TOMLDecodeError:
            reps = None
        adds = reps.get("add") if isinstance(reps, dict) else None
        count = len(adds) if isinstance(adds, list) else int(isinstance(adds, dict))
        # an inline entry (add = [{...}]) has no table of its own: the "add" line stands for it (QA47 F3:
        # the k-th merged rep was matched to the k-th [[reps.add]] table, the wrong rep's line)
        tables += [
            (shown, lines, text, f"[{n}]" if ("reps", "add", f"[{n}]") in lines else "")
            for n in range(1, count + 1)
        ]
    out = []
    for p in problems:
        found = _ADDED.match(p.column or "") if p.file == ADDED_REPS else None
        if found is None or not 1 <= int(found.group(1)) <= len(tables):
            out.append(p)
            continue
        shown, lines, text, entry = tables[int(found.group(1)) - 1]
        key = found.group(2)
        if not entry:  # inline: the line of "add", else of [reps]
            line = lines.get(("reps", "add"), lines.get(("reps",)))
            out.append(Problem(shown, line, p.column, p.message, p.value))
            continue
        at = ("reps", "add", entry)
        written = {k[3].lower(): v for k, v in lines.items() if k[:3] == at and len(k) == 4}
        line = written.get(key.lower()) if key else None
        value = p.value if p.value or line is None else as_written(text, line)
        out.append(Problem(shown, line or lines[at], p.column, p.message, value))
    return out
