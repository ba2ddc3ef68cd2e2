"""The regex_extract processor: named groups to fields, typed groups, no-match handling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.regex_extract import RegexExtract, RegexExtractConfig

pytestmark = pytest.mark.unit

REF = r"(?P<region>\w{2})-(?P<year>\d{4})-(?P<number>\d+)"


def make(body: dict[str, Any]) -> RegexExtract:
    return RegexExtract(RegexExtractConfig.model_validate(body))


def batch_of(columns: dict[str, Any]) -> Batch:
    return Batch.of(
        columns,
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"offset": 5}, 5),
    )


def only(batches: list[Batch]) -> Batch:
    assert len(batches) == 1
    return batches[0]


ORDERS = batch_of(
    {
        "id": [1, 2, 3, 4, 5],
        "ref": ["FR-2024-0012", "no reference", None, "东京-2023-7", "order DE-2022-9x"],
    }
)


def test_named_groups_become_text_fields_appended_after_the_others() -> None:
    processor = make({"source_field": "ref", "pattern": REF})
    out = only(processor.process(ORDERS))
    assert out.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("ref", pa.string()),
            ("region", pa.string()),
            ("year", pa.string()),
            ("number", pa.string()),
        ]
    )
    assert out.data.to_pylist() == [
        {"id": 1, "ref": "FR-2024-0012", "region": "FR", "year": "2024", "number": "0012"},
        {"id": 3, "ref": None, "region": None, "year": None, "number": None},  # NULL: no failure
        {"id": 4, "ref": "东京-2023-7", "region": "东京", "year": "2023", "number": "7"},
        {"id": 5, "ref": "order DE-2022-9x", "region": "DE", "year": "2022", "number": "9"},
    ]
    assert out.checkpoint == ORDERS.checkpoint
    assert out.metadata == ORDERS.metadata
    (rejected,) = processor.take_rejected()
    assert rejected.records.to_pylist() == [{"id": 2, "ref": "no reference"}]
    assert rejected.error.to_pylist() == [f"`ref` value `no reference` does not match `{REF}`"]
    assert processor.stats().records_failed == 1


def test_on_error_null_keeps_unmatched_records_with_null_groups() -> None:
    processor = make({"source_field": "ref", "pattern": f"^{REF}$", "on_error": "null"})
    out = only(processor.process(ORDERS))
    assert out.data.column("year").to_pylist() == ["2024", None, None, "2023", None]
    assert processor.take_rejected() == []
    assert processor.stats().records_filtered == 0


def test_on_error_skip_drops_unmatched_records_and_counts_them() -> None:
    processor = make({"source_field": "ref", "pattern": f"^{REF}$", "on_error": "skip"})
    out = only(processor.process(ORDERS))
    assert out.data.column("id").to_pylist() == [1, 3, 4]
    assert processor.stats().records_filtered == 2
    assert processor.take_rejected() == []


def test_types_cast_groups_and_a_failed_cast_is_a_failure() -> None:
    batch = batch_of({"line": ["2024-02-29 level=3", "2024-02-30 level=1", "2024-01-01 level=x9"]})
    body = {
        "source_field": "line",
        "pattern": r"(?P<day>\S+) level=(?P<level>\w+)",
        "types": {"day": "date", "level": "int8"},
        "keep_source": False,
    }
    processor = make(body)
    out = only(processor.process(batch))
    assert out.schema == pa.schema([("day", pa.date32()), ("level", pa.int8())])
    assert out.data.to_pylist() == [{"day": dt.date(2024, 2, 29), "level": 3}]
    (rejected,) = processor.take_rejected()
    assert rejected.records.to_pylist() == batch.data.slice(1).to_pylist()
    assert rejected.error.to_pylist() == [
        "Cannot cast group `day` value `2024-02-30` to date",
        "Cannot cast group `level` value `x9` to int8",
    ]
    nulled = only(make({**body, "on_error": "null"}).process(batch))
    assert nulled.data.to_pylist() == [
        {"day": dt.date(2024, 2, 29), "level": 3},
        {"day": None, "level": 1},
        {"day": dt.date(2024, 1, 1), "level": None},
    ]


def test_unnamed_groups_are_not_written_and_case_can_be_ignored() -> None:
    batch = batch_of({"msg": ["ERROR [db] down", "warn [web.api] slow", None]})
    pattern = r"(?i)^(ERROR|WARN) \[(?P<module>[a-z.]+)\] (?P<text>.*)$"
    out = only(make({"source_field": "msg", "pattern": pattern}).process(batch))
    assert out.schema.names == ["msg", "module", "text"]
    assert out.data.column("module").to_pylist() == ["db", "web.api", None]
    assert out.data.column("text").to_pylist() == ["down", "slow", None]


def test_a_group_named_like_a_field_replaces_it_in_place() -> None:
    batch = batch_of({"year": [0, 0], "ref": ["FR-2024-1", "DE-1999-2"], "tail": ["a", "b"]})
    body = {"source_field": "ref", "pattern": REF, "types": {"year": "int32"}}
    out = only(make({**body, "keep_source": False}).process(batch))
    assert out.schema.names == ["year", "tail", "region", "number"]
    assert out.data.column("year").to_pylist() == [2024, 1999]
    assert out.schema.field("year").type == pa.int32()


def test_the_source_itself_may_be_replaced_by_a_group() -> None:
    batch = batch_of({"code": ["id: 42", "id: 7"], "other": [1, 2]})
    body = {"source_field": "code", "pattern": r"(?P<code>\d+)", "types": {"code": "int64"}}
    out = only(make({**body, "keep_source": False}).process(batch))
    assert out.data.to_pylist() == [{"code": 42, "other": 1}, {"code": 7, "other": 2}]


def test_numbers_and_dates_are_searched_in_their_text_form() -> None:
    batch = batch_of({"n": [20240131, None, 7], "d": [dt.date(2024, 1, 31), None, None]})
    out = only(
        make(
            {"source_field": "n", "pattern": r"^(?P<y>\d{4})(?P<m>\d\d)", "on_error": "null"}
        ).process(batch)
    )
    assert out.data.column("y").to_pylist() == ["2024", None, None]
    days = make({"source_field": "d", "pattern": r"-(?P<month>\d\d)-"}).process(batch)
    assert only(days).data.column("month").to_pylist() == ["01", None, None]


def test_every_record_failing_gives_no_batch() -> None:
    processor = make({"source_field": "ref", "pattern": r"(?P<x>\d{9})", "on_error": "skip"})
    assert processor.process(batch_of({"ref": ["a", "b"]})) == []
    assert processor.stats().records_filtered == 2


def test_empty_batches_pass_nothing() -> None:
    empty = ORDERS.with_data(ORDERS.data.slice(0, 0))
    assert make({"source_field": "ref", "pattern": REF}).process(empty) == []


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            {"id": [1]},
            r"Field `ref` in `regex_extract.source_field` is not in the batch; fields are: id\.",
        ),
        (
            {"ref": [[1, 2]]},
            r"`regex_extract` searches text, but `ref` is list<int64>; encode it as text first",
        ),
    ],
)
def test_runtime_errors_name_the_field(columns: dict[str, Any], message: str) -> None:
    with pytest.raises(TerminalError, match=message):
        make({"source_field": "ref", "pattern": REF}).process(batch_of(columns))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pattern": r"(\d+)"}, "the pattern has no named group"),
        ({"pattern": r"(?P<y>\d{4"}, "invalid regular expression .*unclosed counted repetition"),
        ({"pattern": r"(?<=x)(?P<y>\d)"}, "look-around"),
        ({"pattern": REF, "types": {"yaer": "int32"}}, r"`types` names \['yaer'\]"),
        ({"pattern": REF, "types": {"year": "integerish"}}, "Unknown type `integerish`"),
        ({"pattern": r"(?P<ref>\d+)"}, "the group `ref` would replace `source_field`"),
        ({"pattern": r"(?P<__fustgo_match>\d+)"}, "reserved"),
        ({"pattern": REF, "on_error": "ignore"}, "on_error"),
    ],
)
def test_invalid_configs_fail_validation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RegexExtractConfig.model_validate({"source_field": "ref", **body})
