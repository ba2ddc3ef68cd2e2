"""A test's expectations checked against what its run captured, as readable failures.

Each failure names what was compared and shows expected against actual, field by field for
records (`output: record 2 differs` / "`amount_cents`: expected 1250, got 1251"), with the
offending records for conditions and the actual dead letters for dead-letter expectations.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from fustgo.engine.errors import FustgoError
from fustgo.engine.expressions import compile_expression, referenced_columns
from fustgo.runtime.testing.harness import CapturedOutput, CapturedRun
from fustgo.runtime.testing.models import DeadLetterExpectation, Expectation, RecordsExpectation
from fustgo.runtime.testing.records import display, field_differences, matches

SHOWN = 5
"""Records, rows or dead letters listed per failure before `… and N more`."""


@dataclass(frozen=True)
class Failure:
    """One unmet expectation: a one-line summary and the lines that show why."""

    message: str
    details: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "details": list(self.details)}


def check_run(expect: Expectation, run: CapturedRun) -> list[Failure]:
    """Every unmet expectation of a test, in the order they are written in the format."""
    summary = run.summary
    succeeded = summary.status == "succeeded"
    if expect.fails_with is None and not succeeded:
        outcome = summary.status.replace("_", " ")
        return [Failure(f"The run {outcome}: {summary.error}"), *_dead_letters(None, run)]
    failures: list[Failure] = []
    if expect.fails_with is not None:
        if succeeded:
            failures.append(
                Failure(f"Expected the run to fail with `{expect.fails_with}`, but it succeeded")
            )
        elif expect.fails_with not in (summary.error or ""):
            failures.append(
                Failure(
                    f"Expected the run to fail with `{expect.fails_with}`",
                    (f"it failed with: {summary.error}",),
                )
            )
    failures.extend(check_records(expect, run.output, where="output"))
    for path, wanted in expect.outputs.items():
        capture = run.leaves.get(path)
        if capture is None:
            known = ", ".join(f"`{name}`" for name in run.leaves) or "none"
            failures.append(
                Failure(f"`outputs` names `{path}`, which is not a leaf output; these are: {known}")
            )
            continue
        failures.extend(check_records(wanted, capture, where=f"output `{path}`"))
    if expect.dead_letters is not None or expect.fails_with is None:
        failures.extend(_dead_letters(expect.dead_letters or 0, run))
    return failures


def check_records(
    expect: RecordsExpectation, capture: CapturedOutput, *, where: str
) -> list[Failure]:
    """`count`, `records` and `conditions` of one output."""
    rows = capture.rows()
    failures: list[Failure] = []
    if expect.count is not None and len(rows) != expect.count:
        failures.append(
            Failure(
                f"{where}: expected {_records(expect.count)}, got {len(rows)}",
                _listed(rows, "record"),
            )
        )
    if expect.records is not None:
        compare = _in_order if expect.ordered else _in_any_order
        failures.extend(compare(expect.records, rows, exact=expect.exact, where=where))
    table = capture.table()
    for condition in expect.conditions:
        failure = _condition(condition, table, where)
        if failure is not None:
            failures.append(failure)
    return failures


def _in_order(
    expected: Sequence[dict[str, Any]], rows: list[dict[str, Any]], *, exact: bool, where: str
) -> list[Failure]:
    failures: list[Failure] = []
    differing = 0
    for index, (want, got) in enumerate(zip(expected, rows, strict=False)):
        differences = field_differences(want, got, exact=exact)
        if differences:
            differing += 1
            if differing <= SHOWN:
                failures.append(Failure(f"{where}: record {index} differs", tuple(differences)))
    if differing > SHOWN:
        failures.append(Failure(f"{where}: … and {differing - SHOWN} more records differ"))
    if len(expected) != len(rows):
        shared = min(len(expected), len(rows))
        lines = [f"missing record {i}: {display(want)}" for i, want in enumerate(expected)][shared:]
        lines += [f"unexpected record {i}: {display(row)}" for i, row in enumerate(rows)][shared:]
        failures.append(
            Failure(
                f"{where}: expected {_records(len(expected))}, got {len(rows)}",
                _capped(lines),
            )
        )
    return failures


def _in_any_order(
    expected: Sequence[dict[str, Any]], rows: list[dict[str, Any]], *, exact: bool, where: str
) -> list[Failure]:
    pairs = match_all(
        len(expected), len(rows), lambda i, j: matches(expected[i], rows[j], exact=exact)
    )
    used = {j for j in pairs if j is not None}
    spare = [j for j in range(len(rows)) if j not in used]
    failures: list[Failure] = []
    if len(expected) != len(rows):
        failures.append(Failure(f"{where}: expected {_records(len(expected))}, got {len(rows)}"))
    for index, paired in enumerate(pairs):
        if paired is not None:
            continue
        want = expected[index]
        candidates = spare or list(range(len(rows)))
        if not candidates:
            failures.append(
                Failure(f"{where}: expected record {index} is missing", (display(want),))
            )
            continue
        closest = min(candidates, key=lambda j: len(field_differences(want, rows[j], exact=exact)))
        failures.append(
            Failure(
                f"{where}: expected record {index} matches no output record; the closest is "
                f"output record {closest}",
                tuple(field_differences(want, rows[closest], exact=exact)),
            )
        )
    if len(rows) > len(expected):
        failures.append(
            Failure(
                f"{where}: {len(spare)} output records match no expected record",
                _capped([f"record {j}: {display(rows[j])}" for j in spare]),
            )
        )
    return failures


def match_all(wanted: int, available: int, fits: Callable[[int, int], bool]) -> list[int | None]:
    """A maximum matching of wanted items to available ones (Kuhn's augmenting paths).

    Subset comparison makes greedy matching wrong: an expected `{status: paid}` must not
    take the one output record that a more specific expectation needs.
    """
    options = [[j for j in range(available) if fits(i, j)] for i in range(wanted)]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(wanted):
        assign(i, set())
    pairs: list[int | None] = [None] * wanted
    for j, i in owner.items():
        pairs[i] = j
    return pairs


def _condition(sql: str, table: pa.Table | None, where: str) -> Failure | None:
    """None when every record meets `sql` (also when there is none), else the first misses."""
    if table is None:
        return None
    import polars as pl

    try:
        expression = compile_expression(sql)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        missing = [name for name in referenced_columns(expression) if name not in frame.columns]
        if missing:
            return Failure(
                f"{where}: condition `{sql}` uses `{missing[0]}`, which the output records "
                "do not have",
                (f"fields: {', '.join(frame.columns)}",),
            )
        met = frame.with_columns(expression.alias("__fustgo_met")).get_column("__fustgo_met")
    except (FustgoError, pl.exceptions.PolarsError) as exc:
        detail = str(exc).strip().splitlines()[0]
        return Failure(f"{where}: condition `{sql}` cannot be evaluated: {detail}")
    if met.dtype != pl.Boolean:
        return Failure(
            f"{where}: condition `{sql}` gives {met.dtype} values, not true/false; write a "
            "comparison such as `amount > 0`"
        )
    missed = (~met.fill_null(False)).arg_true().to_list()
    if not missed:
        return None
    rows = table.to_pylist()
    return Failure(
        f"{where}: {len(missed)} of {_records(table.num_rows)} do not meet `{sql}`",
        _capped([f"record {i}: {display(rows[i])}" for i in missed]),
    )


def _dead_letters(
    expected: int | list[DeadLetterExpectation] | None, run: CapturedRun
) -> list[Failure]:
    """Dead letters against a count or entries; with None, list them if there are any."""
    letters = [_letter(row) for row in run.dead_letter.rows()]
    shown = _capped([_describe(letter) for letter in letters])
    if expected is None:
        return [Failure(f"dead letter: {_records(len(letters))}", shown)] if letters else []
    if isinstance(expected, int):
        if len(letters) == expected:
            return []
        return [Failure(f"dead letter: expected {_records(expected)}, got {len(letters)}", shown)]
    failures = []
    if len(letters) != len(expected):
        failures.append(
            Failure(f"dead letter: expected {_records(len(expected))}, got {len(letters)}", shown)
        )
    pairs = match_all(len(expected), len(letters), lambda i, j: _fits(expected[i], letters[j]))
    for index, paired in enumerate(pairs):
        if paired is None:
            failures.append(
                Failure(
                    f"dead letter: entry {index} ({_describe_expected(expected[index])}) "
                    "matches no dead letter",
                    shown,
                )
            )
    return failures


def _letter(row: dict[str, Any]) -> dict[str, Any]:
    record: Any = row.get("record")
    with contextlib.suppress(ValueError):  # a record that is not JSON is shown as text
        record = json.loads(record) if isinstance(record, str) else record
    return {"stage": row.get("stage"), "error": row.get("error") or "", "record": record}


def _fits(entry: DeadLetterExpectation, letter: dict[str, Any]) -> bool:
    if entry.stage is not None and entry.stage != letter["stage"]:
        return False
    if entry.error_contains is not None and entry.error_contains not in letter["error"]:
        return False
    if entry.record is not None:
        record = letter["record"]
        return isinstance(record, dict) and matches(entry.record, record, exact=False)
    return True


def _describe(letter: dict[str, Any]) -> str:
    return f"{letter['stage']}: {letter['error']} — record {display(letter['record'])}"


def _describe_expected(entry: DeadLetterExpectation) -> str:
    given = entry.model_dump(exclude_none=True)
    return ", ".join(f"{key}: {display(value)}" for key, value in given.items()) or "any"


def _listed(rows: list[dict[str, Any]], word: str) -> tuple[str, ...]:
    return _capped([f"{word} {i}: {display(row)}" for i, row in enumerate(rows)])


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= SHOWN:
        return tuple(lines)
    return (*lines[:SHOWN], f"… and {len(lines) - SHOWN} more")


def _records(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'}"
