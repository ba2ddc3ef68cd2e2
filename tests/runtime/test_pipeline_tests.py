"""Pipeline unit tests: loading `*.test.yaml` files, running them, and what a failure says."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from fustgo.runtime.testing import LoadedSuite, PipelineTestResult, load_test_file, run_suite
from fustgo.runtime.testing.expectations import match_all
from fustgo.runtime.testing.records import same_value

pytestmark = pytest.mark.unit

ORDERS = """
name: orders
settings: {error_limit: {records: 100}}
input: {type: csv, paths: [data/orders.csv]}
pipeline:
  processors:
    - type: filter
      condition: "status = 'paid' AND amount > ${MIN_AMOUNT:0}"
    - type: transform
      casts: {day: date}
      fields: {amount_cents: "CAST(ROUND(amount * 100) AS BIGINT)"}
    - type: mapping
      field_mappings: {customer: customer_name}
      drop: [status]
output: {type: json, path: out/orders.jsonl}
dead_letter: {type: json, path: out/dead.jsonl}
"""

PAID = "{id: 1, customer: Ana, status: paid, amount: 12.5, day: '2026-01-02'}"
PENDING = "{id: 2, customer: Bo, status: pending, amount: 3.0, day: '2026-01-03'}"
BAD_DAY = "{id: 3, customer: Cai, status: paid, amount: 1.0, day: '2026-02-30'}"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def suite_file(folder: Path, tests: str, *, pipeline: str = ORDERS, head: str = "") -> Path:
    """A pipeline `orders.yaml` and `orders.test.yaml` with `tests` (YAML list items)."""
    write(folder, "orders.yaml", pipeline)
    return write(folder, "orders.test.yaml", f"pipeline: orders.yaml\n{head}tests:\n{tests}")


def run(path: Path, name_filter: str | None = None) -> tuple[LoadedSuite, list[PipelineTestResult]]:
    suite = load_test_file(path)
    assert suite.ok, [d.message for _, report in suite.reports for d in report.diagnostics]
    return suite, asyncio.run(run_suite(suite, name_filter=name_filter))


def only(results: list[PipelineTestResult]) -> PipelineTestResult:
    assert len(results) == 1
    return results[0]


def messages(result: PipelineTestResult) -> str:
    return "\n".join(
        line for failure in result.failures for line in (failure.message, *failure.details)
    )


def diagnostics(suite: LoadedSuite) -> list[str]:
    return [
        f"{d.file}:{d.line}:{d.column}: {d.message}"
        for _, report in suite.reports
        for d in report.diagnostics
    ]


# ------------------------------------------------------------------------------ passing


def test_a_passing_suite_runs_every_test_and_writes_nothing(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: paid orders get cents and a renamed customer
    input: [{PAID}, {PENDING}]
    expect:
      exact: true
      records:
        - {{id: 1, customer_name: Ana, amount: 12.5, day: 2026-01-02, amount_cents: 1250}}
      count: 1
      conditions: ["amount_cents > 0", "customer_name = 'Ana'"]
  - name: nothing comes out of nothing
    input: []
    expect: {{count: 0, records: []}}
""",
    )
    _, results = run(path)
    assert [(r.name, r.passed) for r in results] == [
        ("paid orders get cents and a renamed customer", True),
        ("nothing comes out of nothing", True),
    ]
    assert all(r.seconds < 5 for r in results)
    assert not (in_tmp_cwd / "out").exists()
    assert not (in_tmp_cwd / ".fustgo").exists()


def test_nulls_unicode_and_several_batches_keep_their_order(in_tmp_cwd: Path) -> None:
    rows = ", ".join(
        f"{{id: {i}, customer: 'Zoë 陈{i}', status: paid, amount: {i}.5, day: '2026-01-0{i}'}}"
        for i in range(1, 8)
    )
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: seven records in batches of two
    batch_size: 2
    input: [{rows}, {{id: 8, customer: null, status: paid, amount: 2.0, day: null}}]
    expect:
      records: [{", ".join(f"{{id: {i}, customer_name: 'Zoë 陈{i}'}}" for i in range(1, 8))},
                {{id: 8, customer_name: null, day: null, amount_cents: 200}}]
""",
    )
    assert only(run(path)[1]).passed


# ------------------------------------------------------------------------------ failing


def test_a_changed_expectation_names_the_record_the_field_and_both_values(
    in_tmp_cwd: Path,
) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: cents
    input: [{PAID}, {PAID.replace("id: 1", "id: 4").replace("12.5", "2.25")}]
    expect:
      records: [{{id: 1, amount_cents: 1250}}, {{id: 4, amount_cents: 226, nickname: x}}]
""",
    )
    result = only(run(path)[1])
    assert not result.passed
    assert result.name == "cents"
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert failure.message == "output: record 1 differs"
    assert failure.details[0] == "`amount_cents`: expected 226, got 225"
    assert failure.details[1].startswith('`nickname`: expected "x", but the record has no')


def test_wrong_record_count_lists_the_missing_and_unexpected_records(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: too few expected
    input: [{PAID}, {PAID.replace("id: 1", "id: 5")}]
    expect: {{records: [{{id: 1}}], count: 3}}
  - name: too many expected
    input: [{PAID}]
    expect: {{records: [{{id: 1}}, {{id: 9}}]}}
""",
    )
    few, many = run(path)[1]
    assert "output: expected 3 records, got 2" in messages(few)
    assert "output: expected 1 record, got 2" in messages(few)
    assert 'unexpected record 1: {"id": 5' in messages(few)
    assert "output: expected 2 records, got 1" in messages(many)
    assert 'missing record 1: {"id": 9}' in messages(many)


def test_exact_rejects_fields_the_expectation_does_not_list(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: exact
    processors: [0]
    input: [{PAID}]
    expect: {{exact: true, records: [{{id: 1, customer: Ana, amount: 12.5, day: '2026-01-02'}}]}}
""",
    )
    result = only(run(path)[1])
    assert messages(result).splitlines() == [
        "output: record 0 differs",
        '`status`: not expected (`exact: true`), got "paid"',
    ]


def test_unordered_comparison_matches_records_in_any_order(in_tmp_cwd: Path) -> None:
    three = ", ".join(PAID.replace("id: 1", f"id: {i}") for i in (1, 2, 3))
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: any order
    input: [{three}]
    expect:
      ordered: false
      records: [{{amount_cents: 1250}}, {{id: 3}}, {{id: 1}}]
  - name: in order fails
    input: [{three}]
    expect: {{records: [{{id: 3}}, {{id: 2}}, {{id: 1}}]}}
  - name: any order, one wrong
    input: [{three}]
    expect:
      ordered: false
      records: [{{id: 2}}, {{id: 7}}, {{id: 1}}]
""",
    )
    any_order, in_order, wrong = run(path)[1]
    assert any_order.passed
    assert [f.message for f in in_order.failures] == [
        "output: record 0 differs",
        "output: record 2 differs",
    ]
    assert [f.message for f in wrong.failures] == [
        "output: expected record 1 matches no output record; the closest is output record 2"
    ]
    assert wrong.failures[0].details == ("`id`: expected 7, got 3",)


def test_matching_is_not_greedy() -> None:
    # Expected 0 fits outputs 0 and 1, expected 1 only output 0: a greedy pass fails.
    fits = {(0, 0), (0, 1), (1, 0)}
    assert match_all(2, 2, lambda i, j: (i, j) in fits) == [1, 0]
    assert match_all(2, 1, lambda i, j: (i, j) in fits) in ([0, None], [None, 0])


def test_conditions_report_the_first_records_that_violate_them(in_tmp_cwd: Path) -> None:
    rows = ", ".join(PAID.replace("id: 1", f"id: {i}") for i in range(1, 9))
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: conditions
    input: [{rows}, {{id: 9, customer: null, status: paid, amount: 1.0, day: '2026-01-09'}}]
    expect:
      conditions:
        - "id < 3"
        - "customer_name <> 'nobody'"
        - "no_such_field > 1"
        - "amount_cents"
        - "amount_cents >= 100"
""",
    )
    result = only(run(path)[1])
    text = messages(result)
    assert "output: 7 of 9 records do not meet `id < 3`" in text
    assert 'record 2: {"id": 3' in text
    assert 'record 6: {"id": 7' in text
    assert 'record 7: {"id": 8' not in text
    assert "… and 2 more" in text
    # A NULL result is not met: record 8 has no customer.
    assert "output: 1 of 9 records do not meet `customer_name <> 'nobody'`" in text
    assert 'record 8: {"id": 9, "customer_name": null' in text
    assert "uses `no_such_field`, which the output records do not have" in text
    assert "gives Int64 values, not true/false" in text
    assert "amount_cents >= 100" not in text


def test_an_unexpected_dead_letter_fails_the_test_and_is_shown(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: bad day
    input: [{PAID}, {BAD_DAY}]
    expect: {{records: [{{id: 1}}]}}
""",
    )
    result = only(run(path)[1])
    assert result.failures[0].message == "dead letter: expected 0 records, got 1"
    assert "pipeline.processors[1]: Cannot cast `day` value `2026-02-30`" in messages(result)


def test_dead_letters_by_count_and_by_stage_error_and_record(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: by count
    input: [{PAID}, {BAD_DAY}]
    expect: {{records: [{{id: 1}}], dead_letters: 1}}
  - name: by entry
    input: [{PAID}, {BAD_DAY}]
    expect:
      dead_letters:
        - {{stage: "pipeline.processors[1]", error_contains: "2026-02-30", record: {{id: 3}}}}
  - name: wrong entry
    input: [{PAID}, {BAD_DAY}]
    expect:
      dead_letters: [{{stage: "pipeline.processors[0]"}}, {{record: {{id: 4}}}}]
""",
    )
    by_count, by_entry, wrong = run(path)[1]
    assert by_count.passed and by_entry.passed
    text = messages(wrong)
    assert "dead letter: expected 2 records, got 1" in text
    assert 'entry 0 (stage: "pipeline.processors[0]") matches no dead letter' in text
    assert 'entry 1 (record: {"id": 4}) matches no dead letter' in text


ERROR_LIMIT_ZERO = ORDERS.replace("settings: {error_limit: {records: 100}}\n", "")


def test_the_error_limit_applies_and_fails_with_expects_the_failure(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: stops at the first dead letter
    input: [{BAD_DAY}, {PAID}]
    expect: {{count: 1}}
  - name: expected to stop
    input: [{BAD_DAY}]
    expect: {{fails_with: "more than `settings.error_limit.records` = 0"}}
  - name: expected to stop, does not
    input: [{PAID}]
    expect: {{fails_with: "error_limit"}}
  - name: stops for another reason
    input: [{BAD_DAY}]
    expect: {{fails_with: "disk full", dead_letters: 1}}
""",
        pipeline=ERROR_LIMIT_ZERO,
    )
    stops, expected, not_failing, other = run(path)[1]
    assert stops.failures[0].message.startswith("The run error limit exceeded: 1 records failed")
    assert "dead letter: 1 record" in messages(stops)
    assert expected.passed
    assert messages(not_failing) == "Expected the run to fail with `error_limit`, but it succeeded"
    assert [f.message for f in other.failures] == ["Expected the run to fail with `disk full`"]
    assert other.failures[0].details[0].startswith("it failed with: 1 records failed")


def test_a_processor_error_fails_the_test_with_the_runs_message(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        """
  - name: no status field
    input: [{id: 1, amount: 1.0}]
    expect: {count: 1}
""",
    )
    result = only(run(path)[1])
    assert result.failures[0].message.startswith("The run failed: Field `status`")


# --------------------------------------------------------------------- env, processors


def test_env_substitutes_variables_in_the_pipeline_per_test(in_tmp_cwd: Path) -> None:
    big = PAID.replace("12.5", "50.0").replace("id: 1", "id: 2")
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: file env
    input: [{PAID}, {big}]
    expect: {{records: [{{id: 2}}]}}
  - name: test env wins
    env: {{MIN_AMOUNT: 1}}
    input: [{PAID}, {big}]
    expect: {{records: [{{id: 1}}, {{id: 2}}]}}
""",
        head="env: {MIN_AMOUNT: 20}\n",
    )
    suite, results = run(path)
    assert [r.passed for r in results] == [True, True]
    assert {case.pipeline.fingerprint for case in suite.cases} != {
        suite.cases[0].pipeline.fingerprint
    }


def test_an_env_that_breaks_the_pipeline_is_reported_at_the_test(in_tmp_cwd: Path) -> None:
    pipeline = ORDERS.replace("${MIN_AMOUNT:0}", "${MIN_AMOUNT}")
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: with env
    env: {{MIN_AMOUNT: 1}}
    input: [{PAID}]
    expect: {{count: 1}}
  - name: without env
    input: [{PAID}]
    expect: {{count: 1}}
""",
        pipeline=pipeline,
    )
    suite = load_test_file(path)
    assert not suite.ok and not suite.cases
    found = diagnostics(suite)
    assert found[0].endswith(
        "orders.test.yaml:8:5: With the `env` of test `without env`, the pipeline "
        f"`{in_tmp_cwd / 'orders.yaml'}` is invalid (its diagnostics follow)"
    )
    assert "Environment variable `MIN_AMOUNT` is not set" in found[1]
    assert found[1].startswith(f"{in_tmp_cwd / 'orders.yaml'}:8:18:")


def test_processors_selects_a_subset_in_the_given_order(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: mapping only
    processors: [2]
    input: [{PENDING}]
    expect: {{exact: true, records: [{{id: 2, customer_name: Bo, amount: 3.0, day: '2026-01-03'}}]}}
  - name: none at all
    processors: []
    input: [{PENDING}]
    expect: {{records: [{{status: pending, customer: Bo}}]}}
  - name: a dead letter names the processor by its place in the file
    processors: [1]
    input: [{BAD_DAY}]
    expect: {{dead_letters: [{{stage: "pipeline.processors[1]"}}]}}
""",
    )
    assert [r.passed for r in run(path)[1]] == [True, True, True]


def test_filter_selects_tests_by_part_of_their_name(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        f"""
  - name: Paid orders
    input: [{PAID}]
    expect: {{count: 1}}
  - name: pending orders
    input: [{PENDING}]
    expect: {{count: 0}}
""",
    )
    assert [r.name for r in run(path, name_filter="PAID")[1]] == ["Paid orders"]
    assert run(path, name_filter="refunds")[1] == []


# ------------------------------------------------------------------------------ typing


def test_input_schema_types_the_input_and_values_compare_by_meaning(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        """
  - name: typed
    processors: []
    input:
      - {price: 12.5, day: 2026-01-31, at: "2026-01-31 08:00:00", clock: "08:30:00",
         doc: {a: [1, 2]}, tags: [x, y], flag: true, big: 9007199254740993}
      - {price: "0.10", day: null, at: 2026-02-01T10:15:00.250000, clock: null,
         doc: null, tags: [], flag: null}
    input_schema: {price: "decimal(10,2)", day: date, at: timestamp, clock: time, doc: json,
                   tags: "list<string>", missing: int32}
    expect:
      exact: true
      records:
        - {price: "12.50", day: 2026-01-31, at: "2026-01-31T08:00:00", clock: "08:30",
           doc: {a: [1, 2]}, tags: [x, y], flag: true, big: 9007199254740993, missing: null}
        - {price: 0.1, day: null, at: "2026-02-01 10:15:00.25", clock: null, doc: null,
           tags: [], flag: null, big: null, missing: null}
""",
    )
    suite, results = run(path)
    assert only(results).passed, messages(results[0])
    schema = suite.cases[0].input.schema
    assert str(schema.field("price").type) == "decimal128(10, 2)"
    assert str(schema.field("at").type) == "timestamp[us]"
    assert schema.field("doc").metadata == {b"fustgo.logical_type": b"json"}
    assert schema.names[-1] == "missing"


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        (1250, 1250, True),
        (1250, 1250.0, True),
        (0.3, 0.1 + 0.2, True),
        (0.3, 0.31, False),
        (1, True, False),
        (True, 1, False),
        (None, None, True),
        (None, 0, False),
        ("", None, False),
        ("12.5", Decimal("12.50"), True),
        (12.5, Decimal("12.50"), True),
        ("abc", Decimal("1"), False),
        ("2026-01-31", dt.date(2026, 1, 31), True),
        ("2026-01-31", dt.datetime(2026, 1, 31), True),
        ("2026-01-31T08:00:00Z", dt.datetime(2026, 1, 31, 8, tzinfo=dt.UTC), True),
        ("2026-01-31T08:00:00", dt.datetime(2026, 1, 31, 8, tzinfo=dt.UTC), False),
        ("not a date", dt.date(2026, 1, 31), False),
        ({"a": 1}, '{"a": 1}', True),
        ({"a": 1}, "not json", False),
        ({"a": 1, "b": None}, {"a": 1, "b": None}, True),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ([1, "x"], [1, "x"], True),
        ([1], [1, 2], False),
        ("héllo", b"h\xc3\xa9llo", True),
        ("1", 1, False),
    ],
)
def test_same_value(expected: object, actual: object, same: bool) -> None:
    assert same_value(expected, actual) is same


# --------------------------------------------------------------------------- branching

BRANCHING = """
name: routed
settings: {error_limit: {records: 100}}
input: {type: csv, paths: [in.csv]}
output:
  type: switch
  cases:
    - condition: "kind = 'order'"
      processors: [{type: filter, condition: "amount > 0"}]
      output:
        type: broker
        outputs:
          - {type: json, path: out/orders.jsonl}
          - {type: sqlite, connection: {database: out/orders.db}, write: {table: orders}}
    - condition: "kind = 'user'"
      output: {type: json, path: out/users.jsonl}
"""


def test_broker_and_switch_children_are_captured_per_leaf_path(in_tmp_cwd: Path) -> None:
    path = suite_file(
        in_tmp_cwd,
        """
  - name: routed
    input:
      - {id: 1, kind: order, amount: 5}
      - {id: 2, kind: order, amount: 0}
      - {id: 3, kind: user, amount: 1}
      - {id: 4, kind: other, amount: 1}
    expect:
      count: 4
      dead_letters: [{stage: output, error_contains: "matched no case", record: {id: 4}}]
      outputs:
        output.cases[0].output.outputs[0]: {records: [{id: 1}]}
        output.cases[0].output.outputs[1]: {count: 1, conditions: ["amount = 5"]}
        output.cases[1].output: {exact: true, records: [{id: 3, kind: user, amount: 1}]}
  - name: unknown path
    input: [{id: 3, kind: user, amount: 1}]
    expect:
      outputs:
        output.cases[2].output: {count: 0}
        output.cases[1].output: {count: 2}
""",
        pipeline=BRANCHING,
    )
    routed, unknown = run(path)[1]
    assert routed.passed, messages(routed)
    text = messages(unknown)
    assert (
        "`outputs` names `output.cases[2].output`, which is not a leaf output; these are: "
        "`output.cases[0].output.outputs[0]`, `output.cases[0].output.outputs[1]`, "
        "`output.cases[1].output`"
    ) in text
    assert "output `output.cases[1].output`: expected 2 records, got 1" in text
    assert not (in_tmp_cwd / "out").exists()


# -------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "tests:\n  - {name: a, input: [], expect: {}}\n",
            ["1:1: Missing required field `pipeline` in the test file"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    inputs: []\n    expect: {}\n"
            "    expected: {}\n",
            [
                "4:5: Unknown field `inputs` in `tests[0]`",
                "6:5: Unknown field `expected` in `tests[0]`",
            ],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n   input: []\n",
            ["4:4: Bad indentation"],
        ),
        ("", ["The test file is empty; it needs `pipeline` and `tests`"]),
        ("- a\n- b\n", ["1:1: A test file is a mapping with `pipeline` and `tests`, not a list"]),
        (
            "pipeline: nowhere.yaml\ntests:\n  - {name: a, input: [], expect: {}}\n",
            ["1:11: Pipeline file `", "nowhere.yaml` does not exist"],
        ),
        (
            "pipeline: orders.yaml\ntests: []\n",
            ["2:8: `tests` must have at least 1 item(s), got a list"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - {name: a, input: [], expect: {}}\n"
            "  - {name: a, input: [], expect: {count: -1}}\n",
            ["4:42: `tests[1].expect.count` must be at least 0, got `-1`"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - {name: a, input: [], expect: {}}\n"
            "  - {name: a, input: [], expect: {}}\n",
            ["4:12: Two tests are named `a` (tests[0] and tests[1])"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    processors: [1, 3]\n"
            "    input: []\n    expect: {}\n",
            ["4:21: `tests[0].processors` selects processor 3, but the pipeline has 3 processors"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    input: [{id: 1}, {id: x}]\n"
            "    expect: {}\n",
            ['4:27: Field `id` has values of different types (`1` in record 0, `"x"` in record 1)'],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    input: [{id: 1}, {id: x}]\n"
            "    input_schema: {id: int64}\n    expect: {}\n",
            ['4:27: Field `id` = `"x"` in record 1 is not a int64'],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    input: [{id: 99999999999999999999}]\n"
            "    expect: {}\n",
            ["4:18: Field `id` cannot be read from its values"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    input: [{day: 5}]\n"
            "    input_schema: {day: date}\n    expect: {}\n",
            ["4:19: Field `day` = `5` in record 0 is not a date (as `input_schema` says): write"],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    input: []\n"
            "    input_schema: {id: integr}\n    expect: {conditions: ['a >']}\n",
            [
                "5:24: `tests[0].input_schema.id`: Unknown type `integr`",
                "6:27: `tests[0].expect.conditions[0]` is not a valid SQL expression",
            ],
        ),
        (
            "pipeline: orders.yaml\ntests:\n  - name: a\n    input: []\n"
            "    expect: {dead_letters: [{stag: x}]}\n",
            ["5:30: Unknown field `stag` in `tests[0].expect.dead_letters[0]`"],
        ),
    ],
)
def test_bad_test_files_give_located_diagnostics(
    in_tmp_cwd: Path, text: str, expected: list[str]
) -> None:
    write(in_tmp_cwd, "orders.yaml", ORDERS)
    path = write(in_tmp_cwd, "bad.test.yaml", text)
    suite = load_test_file(Path("bad.test.yaml"))
    assert not suite.ok and not suite.cases
    found = diagnostics(suite)
    assert len(found) == len(expected) or expected[0].startswith("1:11"), found
    for line, fragment in zip(found, expected, strict=False):
        assert line.startswith("bad.test.yaml"), line
        assert fragment in line, (fragment, found)
    assert path.exists()


def test_a_missing_test_file_is_a_diagnostic(in_tmp_cwd: Path) -> None:
    suite = load_test_file(Path("none.test.yaml"))
    assert diagnostics(suite) == [
        "none.test.yaml:None:None: Test file `none.test.yaml` does not exist"
    ]


def test_an_invalid_pipeline_is_reported_against_its_own_file(in_tmp_cwd: Path) -> None:
    broken = ORDERS.replace("type: filter", "type: filtr")
    path = suite_file(in_tmp_cwd, "  - {name: a, input: [], expect: {}}\n", pipeline=broken)
    suite = load_test_file(path)
    assert not suite.ok
    ((file, report),) = suite.reports
    assert file == str(in_tmp_cwd / "orders.yaml")
    assert report.errors[0].message == "Unknown processor plugin `filtr`"
    assert report.errors[0].line == 7


def test_includes_and_variables_work_in_test_files(
    in_tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXPECTED_CENTS", "1250")
    write(in_tmp_cwd, "fixtures/paid.yaml", f"[{PAID}]\n")
    path = suite_file(
        in_tmp_cwd,
        """
  - name: included input
    input: !include fixtures/paid.yaml
    expect: {records: [{amount_cents: "${EXPECTED_CENTS}", literal: "$${not a variable}"}]}
""",
    )
    result = only(run(path)[1])
    # The value is the string "1250" (variables are text), so it does not equal 1250.
    assert '`amount_cents`: expected "1250", got 1250' in messages(result)
    assert '`literal`: expected "${not a variable}"' in messages(result)
