"""The mapping processor: rename, select, drop, in that order; clear errors."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.processors.mapping import Mapping, MappingConfig

pytestmark = pytest.mark.unit

USERS = Batch(
    data=pa.RecordBatch.from_arrays(
        [
            pa.array([1, None]),
            pa.array(["太郎", None]),
            pa.array(['{"x":1}', None]),
            pa.array([b"a", b"b"]),
        ],
        schema=pa.schema(
            [
                ("user_id", pa.int64()),
                ("名前", pa.string()),
                pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
                ("secret", pa.binary()),
            ]
        ),
    ),
    metadata=BatchMetadata(source="test"),
    checkpoint=Checkpoint("s", {"offset": 2}, 2),
)


def apply(body: dict, batch: Batch = USERS) -> Batch:
    (out,) = Mapping(MappingConfig.model_validate(body)).process(batch)
    return out


def test_rename_keeps_values_types_metadata_and_checkpoint() -> None:
    out = apply({"field_mappings": {"user_id": "customer_id", "doc": "文書"}})
    assert out.schema.names == ["customer_id", "名前", "文書", "secret"]
    assert out.schema.field("文書").metadata == JSON_FIELD_METADATA
    assert out.data.column(0).to_pylist() == [1, None]
    assert out.checkpoint == USERS.checkpoint
    assert out.metadata == USERS.metadata


def test_select_uses_new_names_and_sets_the_order() -> None:
    out = apply({"field_mappings": {"名前": "name"}, "select": ["name", "user_id"]})
    assert out.data.to_pylist() == [{"name": "太郎", "user_id": 1}, {"name": None, "user_id": None}]


def test_drop_runs_after_rename() -> None:
    out = apply({"field_mappings": {"secret": "hidden"}, "drop": ["hidden", "doc"]})
    assert out.schema.names == ["user_id", "名前"]


def test_swapping_two_names_is_allowed() -> None:
    out = apply({"field_mappings": {"user_id": "名前", "名前": "user_id"}})
    assert out.schema.names == ["名前", "user_id", "doc", "secret"]
    assert out.data.column("名前").to_pylist() == [1, None]


def test_an_empty_batch_keeps_its_new_schema() -> None:
    out = apply({"drop": ["secret"]}, USERS.with_data(USERS.data.slice(0, 0)))
    assert out.num_rows == 0
    assert out.schema.names == ["user_id", "名前", "doc"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"field_mappings": {"email": "mail"}},
            r"Fields \['email'\] in `mapping.field_mappings` are not in the batch; "
            r"fields are: user_id, 名前, doc, secret\.",
        ),
        ({"field_mappings": {"user_id": "名前"}}, r"several fields the name \['名前'\]"),
        (
            {"field_mappings": {"名前": "name"}, "select": ["名前"]},
            r"Fields \['名前'\] in `mapping.select` are not in the batch \(after renaming\)",
        ),
        ({"drop": ["nope"]}, r"Fields \['nope'\] in `mapping.drop`"),
    ],
)
def test_missing_or_clashing_names_are_terminal_errors(body: dict, message: str) -> None:
    with pytest.raises(TerminalError, match=message):
        apply(body)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"field_mappings": {"a": "x", "b": "x"}},
        {"field_mappings": {"a": ""}},
        {"select": []},
        {"select": ["a", "a"]},
        {"select": ["a"], "drop": ["b"]},
        {"field_mappings": "a"},
    ],
)
def test_inconsistent_configs_fail_validation(body: dict) -> None:
    with pytest.raises(ValidationError):
        MappingConfig.model_validate(body)
