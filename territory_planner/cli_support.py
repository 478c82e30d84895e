"""Shared pieces of the command line: error handling and the problems table.

Only the CLI layer talks to the terminal. Library code raises ``TerritoryPlannerError`` subclasses;
``handle_errors`` turns them into a readable message, an ``input_errors.csv`` where an output folder is
known, and the documented exit code (0 ok, 1 bad input or infeasible, 2 usage, 3 solver failure).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from territory_planner.currency import is_money
from territory_planner.errors import (
    COMMAND_LINE,
    InfeasibleError,
    InputError,
    OutputPathError,
    Problem,
    TerritoryPlannerError,
)
from territory_planner.io.labels import row_ranges
from territory_planner.io.scenario_lines import locate_added

if TYPE_CHECKING:  # pandas loads in a command's body, not for --help and usage errors
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

MAX_ROWS_SHOWN = 50


class FiniteFloat(click.types.FloatParamType):
    """A float flag that refuses ``nan`` and ``inf`` (QA57 F1: ``--time-limit nan`` was taken, and the
    run planned with no time limit and no bound; ``--company-target nan`` failed later, exit 1)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return _finite(self, super().convert(value, param, ctx), value, param, ctx)


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that refuses ``nan`` and ``inf`` (a range test passes ``nan``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return _finite(self, super().convert(value, param, ctx), value, param, ctx)


FINITE = FiniteFloat()


def _finite(
    kind: click.ParamType, number: Any, value: Any, param: click.Parameter | None, ctx: click.Context | None
) -> Any:
    if number != number or number in (float("inf"), float("-inf")):
        kind.fail(f"{value!r} is not a finite number", param, ctx)
    return number


def check_period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A click callback: a period option (2026Q2, 2026-07, 2026 or START:END) that parses, as given."""
    if value is None:
        return None
    from territory_planner.report.periods import PeriodError, parse_period

    try:
        parse_period(value)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from exc
    return value


def check_out(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """A click callback: an output path (``--out``, ``--errors``) that can be created and written, tried
    before any input is read or anything solved (QA32 F-e: a parent that is a file, or a place not
    writable, was a traceback after the whole solve); a usage error naming the path and the reason."""
    if value is None:
        return None
    from territory_planner.io.outpaths import check_writable

    try:
        check_writable(Path(value))
    except OutputPathError as exc:
        raise click.BadParameter(str(exc)) from exc
    return value


def out_folder_option(help: str) -> Callable[[F], F]:  # noqa: A002 - click's own keyword
    """The required ``--out FOLDER`` of a command that writes a folder, tried for writing as the command
    line is read (``check_out``)."""
    return click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        callback=check_out,
        help=help,
    )


def live_console(console: Console) -> bool:
    """Whether ``console`` can redraw a line in place (a spinner): a terminal that does not say it cannot
    (``TERM=dumb``: QA86 F7, no progress at all there, where a pipe gets timestamped lines)."""
    return console.is_terminal and not console.is_dumb_terminal


def stderr_console() -> Console:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if not console.is_terminal:  # logs and pipes: do not fold messages at 80 columns
        console = Console(stderr=True, highlight=False, soft_wrap=True, width=220)
    return console


@contextlib.contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner with the seconds so far on a terminal's stderr while a command works (QA67 F4: `forecast`,
    `compare`, `report` and `export` of 33,300 accounts said nothing for 8 to 28 s); gone when it ends, and
    nothing at all in a log or a pipe."""
    console = stderr_console()
    if not live_console(console):
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn("dots"), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        bar.add_task(message, total=None)
        yield


PROBLEM_COLUMNS = ("file", "row", "column", "value", "message")


def problems_frame(error: InputError) -> pd.DataFrame:
    import pandas as pd

    rows = [p.as_dict() for p in error.problems]
    # the warnings found beside the problems, after them (QA114 F3: on the console alone, and not with
    # --quiet, so that a list worked from still hid a row with lat and lon swapped)
    blank = dict.fromkeys(PROBLEM_COLUMNS, "")  # no NaN: a row number stays 3, not 3.0
    rows += [{**blank, "message": f"warning (accepted, not a problem): {w}"} for w in error.warnings]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))


def _command_line_only(error: InputError) -> bool:
    """Every problem is a flag's value (``--time-limit 0``): a usage error, no input file to blame (QA25
    F9: "1 problem(s) in the inputs" above "command line | --time-limit must be > 0")."""
    return bool(error.problems) and all(p.file == COMMAND_LINE for p in error.problems)


def _shown_problems(problems: list[Problem]) -> tuple[list[Problem], dict[tuple[str, str, str], int]]:
    """At most ``MAX_ROWS_SHOWN`` problems for the screen, and the count of each kind (file, column,
    message). Over the limit, the kinds take turns, so every kind is shown at least once (QA39 F6: the
    first 50 of 100,100 were all "not a number", the 50,000 stage names and the bad probabilities never on
    screen); in the files' order."""
    kinds: dict[tuple[str, str, str], list[int]] = {}
    for k, p in enumerate(problems):
        kinds.setdefault((str(p.file), str(p.column or ""), p.message), []).append(k)
    counts = {kind: len(rows) for kind, rows in kinds.items()}
    if len(problems) <= MAX_ROWS_SHOWN:
        return list(problems), counts
    picked: list[int] = []
    turn = 0
    while len(picked) < MAX_ROWS_SHOWN:  # the kinds' rows in turns: the first of each, then the second...
        took = [rows[turn] for rows in kinds.values() if turn < len(rows)]
        picked += took[: MAX_ROWS_SHOWN - len(picked)]
        turn += 1
    return [problems[k] for k in sorted(picked)], counts


FOLD_AT = 4  # the same problem (file, column, value, message) on this many rows or more: one row on screen


def _folded(problems: list[Problem]) -> list[tuple[Problem, list[int]]]:
    """The problems for the screen, one row for the same problem on ``FOLD_AT`` rows or more (its rows
    listed; QA45 F5: 66 copies of one 200-character "current_rep 'Z021' is not a rep" filled the table),
    at its first row's place; the rest as they are (rows empty). input_errors.csv keeps every row."""
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for k, p in enumerate(problems):
        if p.row is not None:
            groups.setdefault((str(p.file), str(p.column or ""), str(p.value), p.message), []).append(k)
    out: list[tuple[Problem, list[int]]] = []
    for k, p in enumerate(problems):
        key = (str(p.file), str(p.column or ""), str(p.value), p.message)
        members = groups.get(key, []) if p.row is not None else []
        if len(members) >= FOLD_AT:
            if members[0] == k:
                out.append((p, [int(problems[m].row or 0) for m in members]))
        else:
            out.append((p, []))
    return out


def print_input_error(error: InputError, console: Console | None = None, full_list: str = "") -> None:
    """The problems table, at most ``MAX_ROWS_SHOWN`` rows; ``full_list`` says where the rest can be read."""
    console = console or stderr_console()
    where = "on the command line" if _command_line_only(error) else "in the inputs"
    columns = ("file", "row", "column", "value", "message")
    table = Table(title=f"{len(error.problems)} problem(s) {where}", show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    folded = _folded(error.problems)
    shown, _ = _shown_problems([p for p, _ in folded])
    rows_of = {id(p): rows for p, rows in folded}
    for p in shown:
        d = p.as_dict()
        rows = rows_of.get(id(p))
        if rows:
            d["row"] = f"{len(rows):,} rows: {row_ranges(rows, 3)}"
        table.add_row(*(escape(str(d[c])) for c in columns))
    _print_table(console, table)
    kinds = _shown_problems(error.problems)[1]  # counted over every problem, folded or not
    if len(folded) > MAX_ROWS_SHOWN:
        more = f"... and {len(folded) - MAX_ROWS_SHOWN} more"
        if len(kinds) > 1:  # how many of each kind, the largest first
            counted = sorted(kinds.items(), key=lambda kv: -kv[1])
            listed = "; ".join(
                f"{n:,} x {file} {column}: {message}" for (file, column, message), n in counted[:6]
            )
            more += f" ({len(kinds)} kinds, each shown above: {listed}{'; ...' if len(kinds) > 6 else ''})"
        console.print(escape(f"{more} ({full_list})" if full_list else more))
    elif len(folded) < len(error.problems):  # every row of a folded problem is in the full list
        said = "the same problem on many rows is one row above"
        console.print(escape(f"{said} ({full_list})" if full_list else said))


def _conflict_amount(amount: float) -> str:
    """A conflict's amount: whole from 100 (and a whole number), two decimals from 1 ("4.17": "4.173"
    read as 4,173 where a comma marks decimals, QA42 F6), three significant digits below 1."""
    if abs(amount) >= 100 or float(amount).is_integer():
        return f"{amount:,.0f}"
    if abs(amount) >= 1:
        return f"{amount:,.2f}"
    return f"{amount:.3g}"


def print_infeasible(error: InfeasibleError, console: Console | None = None) -> None:
    console = console or stderr_console()
    console.print(f"[bold red]Infeasible:[/] {escape(str(error))}")
    if error.conflicts:
        table = Table(title="constraints in conflict")
        for col in ("family", "rep", "measure", "amount", "explanation"):
            table.add_column(col, overflow="fold")
        for c in error.conflicts[:MAX_ROWS_SHOWN]:
            number = "" if c.amount is None else _conflict_amount(c.amount)
            # money in the run's currency, as the explanation beside it (QA38 F8: 881,155 beside €)
            money = error.money_prefix is not None and (
                is_money(c.measure or "") or c.family in ("disruption_budget", "rep_budget")
            )
            sign, digits = ("-", number[1:]) if number.startswith("-") else ("", number)
            table.add_row(
                escape(c.family),
                escape(c.rep_id or ""),
                escape(c.measure or ""),
                escape(f"{sign}{error.money_prefix}{digits}" if money and number else number),
                escape(c.message),
            )
        _print_table(console, table)


NARROW = 60  # columns: below this a table's last column (the message) gets no room; its rows as lines


def _print_table(console: Console, table: Table) -> None:
    """``table`` as a table, or on a terminal narrower than ``NARROW`` as one line per row, each cell
    named by its column and the message last (QA86 F8: at 21 columns the problem table's message column
    had no width, and no message was shown)."""
    if console.width >= NARROW:
        console.print(table)
        return
    if table.title:
        console.print(table.title)
    names = [str(c.header) for c in table.columns]
    cells = [list(c.cells) for c in table.columns]
    for row in zip(*cells, strict=True):
        named = [f"{name} {cell}" for name, cell in zip(names[:-1], row[:-1], strict=True) if str(cell)]
        console.print("- " + ", ".join(named) + f": {row[-1]}")


ERRORS_NAME = "input_errors.csv"


def beside(out: Path) -> Path:
    """Where the problems of a failed run go when ``out`` already holds a plan (or any other output):
    next to it, ``plans/2025.input_errors.csv``, so the folder keeps only what its own run wrote."""
    from territory_planner.io.outpaths import cut_name, name_max

    out = Path(out)
    # a name near the file system's limit cut to fit (QA86 F3: a traceback in place of the problems)
    return out.with_name(f"{cut_name(out.name, name_max(out.parent) - len(ERRORS_NAME) - 1)}.{ERRORS_NAME}")


def error_table_path(out: Path) -> Path:
    """``out/input_errors.csv`` when ``out`` is new or holds nothing but an earlier failed run's list,
    else ``beside(out)``: a failed run never writes into an existing plan folder (``--force`` replaces
    a folder only with a finished plan)."""
    from territory_planner.io.writers import is_nonempty_dir

    return beside(out) if Path(out).exists() and is_nonempty_dir(Path(out)) else Path(out) / ERRORS_NAME


def write_error_table(error: InputError, out: Path | None) -> Path | None:
    """Write the problems to ``error_table_path(out)`` (its folder created if needed); nothing else in
    ``out`` is touched. Written inside ``out``, it replaces a list an earlier failed run left beside
    it (that plan folder is gone), so the one list left is this run's."""
    if out is None:
        return None
    from territory_planner.io.writers import write_csv

    path = error_table_path(Path(out))
    write_csv(problems_frame(error), path)
    if path != beside(Path(out)):
        beside(Path(out)).unlink(missing_ok=True)
    return path


def clear_error_tables(out: Path | None) -> None:
    """After a run that wrote its output: an error list a failed run left beside ``out`` is stale (the
    one inside ``out`` went with the folder the run replaced)."""
    if out is not None:
        beside(Path(out)).unlink(missing_ok=True)


def _write_errors_file(error: InputError, path: Path, console: Console) -> Path | None:
    """Write the full problems table to ``path`` (a file the user named); None, said, when it cannot be."""
    from territory_planner.io.writers import write_csv

    try:
        write_csv(problems_frame(error), path)
    except OutputPathError as exc:
        console.print(f"[bold red]Error:[/] {escape(f'the problems could not be written: {exc}')}")
        return None
    return path


def check_errors_file(path: Path | None, force: bool, inputs: Iterable[Path | str | None]) -> None:
    """``validate --errors``: one of the run's inputs is refused (with --force too), and without --force a
    file already there, unless it is an earlier list of problems (its header alone says so), which each run
    rewrites (QA32 F-n: the accounts file named by --errors was replaced by the problems)."""
    if path is None:
        return
    from territory_planner.io.writers import check_replace_file

    try:
        with Path(path).open(encoding="utf-8", errors="replace") as fh:
            earlier = fh.readline().rstrip("\r\n").lstrip("\ufeff") == ",".join(PROBLEM_COLUMNS)
    except OSError:
        earlier = False
    check_replace_file(path, force or earlier, inputs)


def handle_errors(out_param: str | None = "out", errors_param: str | None = None) -> Callable[[F], F]:
    """Decorator for click commands: map domain errors to messages and exit codes.

    ``out_param`` names the keyword argument holding the output folder, where ``input_errors.csv``
    is written for input errors. ``errors_param`` names one holding a file (``validate --errors``) that
    gets the full problems table on every run: every problem, or none (the header alone) when the inputs
    were read without one, so an old list never stays behind.
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            console = stderr_console()
            errors_file = kwargs.get(errors_param) if errors_param else None
            try:
                result = fn(*args, **kwargs)
            except InputError as exc:
                out = kwargs.get(out_param) if out_param else None
                exc.problems = locate_added(kwargs.get("scenario"), exc.problems)
                unwritten = None
                try:
                    written = write_error_table(exc, Path(out)) if out else None
                except OutputPathError as failed:  # the problems are shown all the same (QA32 F-e)
                    written, unwritten = None, failed
                if errors_file is not None:
                    written = _write_errors_file(exc, Path(errors_file), console)
                # a check failing on many rows lists its first ones and a row "... and N more rows" (QA22
                # M13: "all 201 are in input_errors.csv" where 18,668 rows were bad)
                capped = any(p.message.startswith("... and ") for p in exc.problems)
                print_input_error(
                    exc,
                    console,
                    (
                        f"the list is in {written}: a check failing on many rows gives its first ones "
                        "and how many more"
                        if capped
                        else f"all {len(exc.problems)} are in {written}"
                        + (
                            f", after them {len(exc.warnings)} warning{'s' * (len(exc.warnings) > 1)}"
                            if exc.warnings
                            else ""
                        )
                    )
                    if written is not None
                    else "pass --errors FILE to write them all"
                    if errors_param
                    else "",
                )
                if written is not None:
                    console.print(escape(f"problems written to {written}"))
                if unwritten is not None:
                    console.print(
                        f"[bold red]Error:[/] {escape(f'the problems could not be written: {unwritten}')}"
                    )
                if exc.proof is not None:  # found in the same run: said now, not after a second one
                    print_infeasible(exc.proof, console)
                sys.exit(exc.exit_code)
            except InfeasibleError as exc:
                if errors_file is not None:
                    _write_errors_file(InputError([]), Path(errors_file), console)
                print_infeasible(exc, console)
                sys.exit(exc.exit_code)
            except TerritoryPlannerError as exc:
                console.print(f"[bold red]Error:[/] {escape(str(exc))}")
                sys.exit(exc.exit_code)
            except KeyboardInterrupt:
                # Ctrl-C: the shell's code for SIGINT, not bad input's 1 (QA13 9); outputs are staged and
                # moved into place whole, so nothing half-written is left and no earlier plan is touched
                from territory_planner.interrupt import stopped_by

                what, code = stopped_by()
                console.print(
                    f"[bold red]{what}:[/] the command stopped before it finished; an output folder "
                    "is only ever moved into place whole, so any earlier one is as it was"
                )
                sys.exit(code)
            if errors_file is not None:
                _write_errors_file(InputError([]), Path(errors_file), console)
            if out_param and kwargs.get(out_param):
                clear_error_tables(Path(kwargs[out_param]))
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def currency_option(default: str) -> Callable[[F], F]:
    """``--currency`` of every command writing money (report, map, workbook; ``currency.parse_currency``)."""
    return click.option(
        "--currency",
        help="Money (potential, revenue, quotas, amounts): a symbol before the amount (€, £, $), an ISO "
        f"code (EUR, INR -> 'EUR 1,234') or none for plain numbers [default: {default}].",
    )


def echo_err(message: str) -> None:
    click.echo(message, err=True)
