"""The stream base over an in-memory consumer: batching, formats, poison, acks, stop."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import fastavro
import pyarrow as pa
import pytest

from fustgo.engine.batch import Batch, Checkpoint, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import PluginContext
from fustgo.plugins.streams.base import (
    Message,
    OutgoingMessage,
    StreamInput,
    StreamInputConfig,
    StreamOutput,
    StreamOutputConfig,
)

pytestmark = pytest.mark.unit


class QueueConsumer:
    """Messages from a list, handed out as asked; records what was acknowledged."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = list(messages)
        self.acked: list[Any] = []
        self.closed = False

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        if not self.messages:
            await asyncio.sleep(min(timeout, 0.01))
            return []
        taken, self.messages = self.messages[:max_messages], self.messages[max_messages:]
        return taken

    async def acknowledge(self, tokens: list[Any]) -> None:
        self.acked.extend(tokens)

    async def close(self) -> None:
        self.closed = True


class MemoryStream(StreamInput[StreamInputConfig]):
    metadata_fields = {
        **StreamInput.metadata_fields,
        "offset": LogicalType("int64"),
        "topic": LogicalType("string"),
    }

    def __init__(self, messages: list[Message], batch: int = 100, **config: Any) -> None:
        self.consumer = QueueConsumer(messages)
        super().__init__(
            StreamInputConfig.model_validate(
                {"stop": {"idle": 0.05}, "batching": {"period": 0.05}, **config}
            ),
            PluginContext(component_path="input", batch_size=batch),
        )

    async def _consumer(self, split: Split) -> QueueConsumer:
        return self.consumer


def messages(payloads: list[bytes | None]) -> list[Message]:
    return [
        Message(p, key=f"k{i}".encode(), meta={"offset": i, "topic": "t"}, token=i)
        for i, p in enumerate(payloads)
    ]


def read(stream: MemoryStream) -> list[Batch]:
    async def run() -> list[Batch]:
        [split] = await stream.splits(4)
        return [batch async for batch in stream.read(split, None)]

    return asyncio.run(run())


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def test_json_messages_become_records_and_poison_goes_to_the_dead_letter_with_its_offset() -> None:
    payloads = [json.dumps({"id": i, "name": f"n{i}"}).encode() for i in range(250)]
    payloads[7] = b"{not json"
    stream = MemoryStream(messages(payloads), metadata=["offset", "key"])
    batches = read(stream)
    assert [b.num_rows for b in batches] == [99, 100, 50]
    got = rows(batches)
    assert [r["id"] for r in got] == [i for i in range(250) if i != 7]
    assert got[0] == {"id": 0, "name": "n0", "_key": "k0", "_offset": 0}
    [rejected] = stream.take_rejected()
    [letter] = rejected.records.to_pylist()
    assert letter["_offset"] == 7 and letter["_topic"] == "t"
    assert "not valid JSON" in rejected.error[0].as_py()  # type: ignore[index]
    assert batches[-1].checkpoint is not None and batches[-1].checkpoint.split_done


def test_acks_follow_checkpoints_in_order_and_cover_skipped_ones() -> None:
    stream = MemoryStream(messages([b'{"a": 1}'] * 30), batch=10)
    batches = read(stream)
    assert [b.num_rows for b in batches] == [10, 10, 10, 0]  # the last one only ends the split
    asyncio.run(stream.ack(batches[1].checkpoint))  # type: ignore[arg-type]
    assert stream.consumer.acked == list(range(20))  # batches 1 and 2
    asyncio.run(stream.ack(batches[1].checkpoint))  # type: ignore[arg-type]
    assert stream.consumer.acked == list(range(20))  # nothing twice
    asyncio.run(stream.ack(batches[2].checkpoint))  # type: ignore[arg-type]
    assert stream.consumer.acked == list(range(30))
    asyncio.run(stream.close())
    assert stream.consumer.closed


def test_batches_close_by_bytes_and_by_count() -> None:
    stream = MemoryStream(
        messages([b'{"a": "' + b"x" * 100 + b'"}'] * 50),
        batching={"bytes": 1000, "period": 0.05},
        batch=1000,
    )
    sizes = [b.num_rows for b in read(stream)]
    assert sum(sizes) == 50 and max(sizes) == 9  # 9 messages of 108 bytes fit in 1000


def test_stop_after_messages_ends_the_split() -> None:
    stream = MemoryStream(messages([b'{"a": 1}'] * 50), stop={"messages": 25}, batch=10)
    batches = read(stream)
    assert sum(b.num_rows for b in batches) == 25
    assert batches[-1].checkpoint.split_done  # type: ignore[union-attr]


def test_ndjson_lines_each_become_a_record_with_their_message_metadata() -> None:
    stream = MemoryStream(
        messages([b'{"a": 1}\n{"a": 2}\n\n', b'{"a": 3}\r\n']), format={"type": "ndjson"},
        metadata=["offset"],
    )  # fmt: skip
    assert rows(read(stream)) == [
        {"a": 1, "_offset": 0}, {"a": 2, "_offset": 0}, {"a": 3, "_offset": 1}
    ]  # fmt: skip


def test_csv_lines_with_typed_columns_and_a_bad_value() -> None:
    stream = MemoryStream(
        messages([b"1,alice,2.5", b'2,"bob, jr",3', b"x,carol,1", b"4,dave"]),
        format={"type": "csv", "columns": ["id", "name", "score"], "schema": {"id": "int64"}},
    )
    assert rows(read(stream)) == [
        {"id": 1, "name": "alice", "score": "2.5"},
        {"id": 2, "name": "bob, jr", "score": "3"},
    ]
    [rejected] = stream.take_rejected()
    assert rejected.records.column("payload").to_pylist() == ["x,carol,1", "4,dave"]
    first, second = rejected.error.to_pylist()  # type: ignore[union-attr]
    assert "`id` is not a valid int64: `x`" in first and "Expected 3 columns" in second


def test_string_and_bytes_formats_and_text_that_is_not_utf8() -> None:
    text = MemoryStream(messages([b"hello", b"\xff\xfe", None]), format={"type": "string"})
    assert rows(read(text)) == [{"value": "hello"}, {"value": None}]
    [rejected] = text.take_rejected()
    assert rejected.records.column("payload").to_pylist() == ["hex:fffe"]
    raw = MemoryStream(messages([b"\xff\x00"]), format={"type": "bytes", "field": "blob"})
    assert rows(read(raw)) == [{"blob": b"\xff\x00"}]


AVRO = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                                    "precision": 12, "scale": 2}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}  # fmt: skip


def test_avro_messages_decode_with_the_given_schema() -> None:
    from decimal import Decimal

    parsed = fastavro.parse_schema(AVRO)
    payloads = []
    for i in range(3):
        sink = io.BytesIO()
        fastavro.schemaless_writer(sink, parsed, {"id": i, "amount": Decimal("1.25"), "note": None})
        payloads.append(sink.getvalue())
    payloads.append(b"\x01")
    stream = MemoryStream(messages(payloads), format={"type": "avro", "avro": {"schema": AVRO}})
    got = read(stream)
    assert rows(got) == [{"id": i, "amount": Decimal("1.25"), "note": None} for i in range(3)]
    assert got[0].data.schema.field("amount").type == pa.decimal128(12, 2)
    assert len(stream.take_rejected()) == 1


def test_unknown_metadata_name_is_a_clear_error() -> None:
    with pytest.raises(TerminalError, match=r"input\.metadata.*partition.*carry: key, headers"):
        MemoryStream([], metadata=["partition"])


class ListPublisher(StreamOutput[StreamOutputConfig]):
    def __init__(self, **config: Any) -> None:
        super().__init__(
            StreamOutputConfig.model_validate(config), PluginContext(component_path="output")
        )
        self.sent: list[OutgoingMessage] = []

    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        self.sent.extend(messages)


def test_outputs_encode_payload_key_and_headers_from_fields() -> None:
    output = ListPublisher(key_field="id", header_fields=["source"])
    data = pa.record_batch({"id": [1, 2], "name": ["a", None], "source": ["web", None]})
    asyncio.run(output.write(Batch(data)))
    first, second = output.sent
    assert json.loads(first.value) == {"name": "a"} and first.key == b"1"
    assert first.headers == {"source": "web"} and second.headers == {}
    assert json.loads(second.value) == {"name": None}
    csv = ListPublisher(format={"type": "csv", "columns": ["id", "name"]})
    assert [m.value for m in csv.messages(data)] == [b'1,"a"', b"2,"]


def test_outputs_name_missing_fields() -> None:
    output = ListPublisher(key_field="user")
    with pytest.raises(TerminalError, match="user"):
        output.messages(pa.record_batch({"id": [1]}))


def test_checkpoint_sequence_continues_after_a_resumed_checkpoint() -> None:
    stream = MemoryStream(messages([b'{"a": 1}'] * 5))

    async def run() -> list[Batch]:
        [split] = await stream.splits(1)
        return [b async for b in stream.read(split, Checkpoint(split.id, {"batch": 41}, 100))]

    [batch] = asyncio.run(run())
    assert batch.checkpoint is not None
    assert batch.checkpoint.position == {"batch": 42} and batch.checkpoint.records == 105
