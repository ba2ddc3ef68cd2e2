"""NATS input and output against the real server on 127.0.0.1:4222 (JetStream enabled).

Each test uses its own stream and subjects (unique names) and deletes the stream afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pyarrow as pa
import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.nats import NatsInput, NatsInputConfig
from fustgo.plugins.outputs.nats import NatsOutput, NatsOutputConfig
from tests.cli_runner import run_fustgo
from tests.plugins.streams.graceful_stop import BODIES, assert_each_id_once, stop_midway

pytestmark = pytest.mark.integration

URL = "nats://127.0.0.1:4222"


async def _admin(work: Any) -> Any:
    client = await nats.connect(URL)
    try:
        return await work(client.jetstream())
    finally:
        await client.close()


def admin(work: Any) -> Any:
    return asyncio.run(_admin(work))


def publish(subject: str, bodies: list[bytes], headers: dict[str, str] | None = None) -> None:
    async def send(js: Any) -> None:
        for body in bodies:
            await js.publish(subject, body, headers=headers)

    admin(send)


def consumer_state(stream: str, durable: str = "fustgo") -> tuple[int, int]:
    """(messages not yet delivered, delivered and not acknowledged) of the durable."""

    async def look(js: Any) -> tuple[int, int]:
        info = await js.consumer_info(stream, durable)
        return info.num_pending, info.num_ack_pending

    return admin(look)


@pytest.fixture
def name() -> Iterator[str]:
    """A unique stream name, also the subject prefix (`<name>.…`); deleted afterwards."""
    stream = f"FG{uuid.uuid4().hex[:10]}"
    yield stream

    async def drop(js: Any) -> None:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(stream)

    admin(drop)


def create_stream(name: str) -> None:
    admin(lambda js: js.add_stream(name=name, subjects=[f"{name}.>"]))


def make_input(batch: int = 100, **config: Any) -> NatsInput:
    settings = {"stop": {"idle": 0.5}, "batching": {"period": 0.1}, **config}
    return NatsInput(
        NatsInputConfig.model_validate(settings),
        PluginContext(component_path="input", batch_size=batch),
    )


def jetstream_input(name: str, batch: int = 100, **config: Any) -> NatsInput:
    jetstream = {"stream": {"name": name}, **config.pop("jetstream", {})}
    return make_input(batch, **{"subjects": [f"{name}.>"], "jetstream": jetstream, **config})


def read_split(
    stream: NatsInput, index: int = 0, ack: bool = True, ack_each: bool = False
) -> list[Batch]:
    """Read one split until idle (the same event loop for reading and acknowledging);
    `ack_each` acknowledges every batch as it comes, as the runner does with interval 0."""

    async def run() -> list[Batch]:
        splits = await stream.splits(index + 1)
        batches = []
        try:
            async for batch in stream.read(splits[index], None):
                batches.append(batch)
                if ack_each:
                    await stream.ack(batch.checkpoint)  # type: ignore[arg-type]
            if ack and batches:
                await stream.ack(batches[-1].checkpoint)  # type: ignore[arg-type]
        finally:
            await stream.close()
        return batches

    return asyncio.run(run())


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def make_output(**config: Any) -> NatsOutput:
    return NatsOutput(
        NatsOutputConfig.model_validate(config), PluginContext(component_path="output")
    )


def write_all(output: NatsOutput, data: pa.RecordBatch) -> None:
    async def run() -> None:
        await output.open(data.schema)
        await output.write(Batch(data))
        await output.flush()
        await output.close()

    asyncio.run(run())


def test_jetstream_round_trip_with_subjects_from_a_field_headers_and_metadata(name: str) -> None:
    data = pa.record_batch(
        {
            "id": list(range(300)),
            "topic": [f"{name}.{'eu' if i % 2 else 'us'}" for i in range(300)],
            "source": ["web"] * 300,
        }
    )
    output = make_output(
        subject_field="topic",
        header_fields=["source"],
        message_id_field="id",
        jetstream={"stream": {"name": name, "subjects": [f"{name}.>"], "create": True}},
    )
    write_all(output, data)
    assert output.stats().records_written == 300
    stream = jetstream_input(
        name,
        subjects=[f"{name}.eu"],
        metadata=["subject", "stream", "sequence", "num_delivered", "redelivered", "timestamp",
                  "headers"],
    )  # fmt: skip
    got = rows(read_split(stream))
    assert sorted(r["id"] for r in got) == list(range(1, 300, 2))  # only the `eu` subject
    first = min(got, key=lambda r: r["_sequence"])
    assert first["_subject"] == first["topic"] == f"{name}.eu" and first["_stream"] == name
    assert first["_sequence"] == 2 and first["_num_delivered"] == 1
    assert first["_redelivered"] is False
    assert json.loads(first["_headers"]) == {"source": "web", "Nats-Msg-Id": "1"}
    assert abs(first["_timestamp"] - datetime.datetime.now(datetime.UTC)).total_seconds() < 60
    assert consumer_state(name) == (0, 0)  # all acknowledged
    # Published again with the same message ids: the stream drops the duplicates.
    write_all(make_output(subject_field="topic", message_id_field="id", jetstream={}), data)
    assert admin(lambda js: js.stream_info(name)).state.messages == 300


def test_poison_message_goes_to_the_dead_letter_with_subject_and_sequence(
    name: str, tmp_path: Path
) -> None:
    create_stream(name)
    bodies = [json.dumps({"id": i}).encode() for i in range(50)]
    bodies[17] = b"{not json"
    publish(f"{name}.orders", bodies)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"""
name: nats-poison
settings: {{checkpoint: {{interval: 0s, path: state.db}}, error_limit: {{records: 5}}}}
input:
  type: nats
  subjects: ["{name}.*"]
  jetstream: {{stream: {{name: {name}}}, durable: poison}}
  metadata: [subject]
  batching: {{period: 0.1s, count: 10}}
  stop: {{idle: 1s}}
output: {{type: json, path: out.jsonl}}
dead_letter: {{type: json, path: dead.jsonl}}
"""
    )
    result = run_fustgo("run", str(pipeline), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert result.exit_code == 0, result.stdout + result.stderr
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in written) == [i for i in range(50) if i != 17]
    [letter] = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    record = json.loads(letter["record"]) if isinstance(letter["record"], str) else letter["record"]
    assert record["_subject"] == f"{name}.orders" and record["_sequence"] == 18
    assert "JSON" in letter["error"]
    assert consumer_state(name, "poison") == (0, 0)  # the poison message is acknowledged too


def test_a_consumer_that_dies_without_acknowledging_gets_its_messages_redelivered(
    name: str,
) -> None:
    create_stream(name)
    publish(f"{name}.a", [json.dumps({"id": i}).encode() for i in range(40)])
    dying = jetstream_input(name, stop={"messages": 25}, jetstream={"ack_wait": 1})

    async def die() -> list[Batch]:
        [split] = await dying.splits(1)
        batches = [b async for b in dying.read(split, None)]
        await dying._client.close()  # type: ignore[union-attr]  # gone: no ack, no nak
        await dying.close()
        return batches

    assert [r["id"] for r in rows(asyncio.run(die()))] == list(range(25))
    assert consumer_state(name) == (15, 25)
    again = rows(
        read_split(jetstream_input(name, metadata=["redelivered"], stop={"idle": 2}), ack_each=True)
    )
    assert sorted(r["id"] for r in again) == list(range(40))
    assert sum(r["_redelivered"] for r in again) == 25  # after ack_wait
    assert consumer_state(name) == (0, 0)


def test_unwritten_messages_come_back_at_once_after_a_graceful_close(name: str) -> None:
    create_stream(name)
    publish(f"{name}.a", [json.dumps({"id": i}).encode() for i in range(30)])
    stream = jetstream_input(name, batch=10)  # ack_wait 60 s: only a nak explains a quick return

    async def run() -> list[Batch]:
        [split] = await stream.splits(1)
        batches = [b async for b in stream.read(split, None)]
        await stream.ack(batches[1].checkpoint)  # type: ignore[arg-type]
        await stream.close()
        return batches

    assert [b.num_rows for b in asyncio.run(run())] == [10, 10, 10, 0]
    rest = rows(read_split(jetstream_input(name, metadata=["redelivered"])))
    assert sorted(r["id"] for r in rest) == list(range(20, 30))
    assert all(r["_redelivered"] for r in rest)


def test_splits_compete_for_one_durable(name: str) -> None:
    create_stream(name)
    publish(f"{name}.a", [json.dumps({"id": i}).encode() for i in range(400)])
    stream = jetstream_input(name, batch=50)

    async def run() -> list[list[Batch]]:
        splits = await stream.splits(2)
        assert len(splits) == 2

        async def one(index: int) -> list[Batch]:
            got = []
            async for batch in stream.read(splits[index], None):  # as the runner does
                got.append(batch)
                await stream.ack(batch.checkpoint)  # type: ignore[arg-type]
                await asyncio.sleep(0.01)  # let the other split fetch too
            return got

        both = await asyncio.gather(one(0), one(1))
        await stream.close()
        return list(both)

    first, second = asyncio.run(run())
    ids_first, ids_second = {r["id"] for r in rows(first)}, {r["id"] for r in rows(second)}
    assert ids_first and ids_second and not ids_first & ids_second
    assert ids_first | ids_second == set(range(400))


def test_deliver_new_and_by_start_time(name: str) -> None:
    create_stream(name)
    publish(f"{name}.a", [b'{"id": 1}', b'{"id": 2}'])
    cut = datetime.datetime.now(datetime.UTC)
    time.sleep(0.05)
    publish(f"{name}.a", [b'{"id": 3}'])
    since = jetstream_input(
        name, jetstream={"durable": "since", "deliver": "by_start_time", "start_time": cut}
    )
    assert [r["id"] for r in rows(read_split(since))] == [3]
    new = jetstream_input(name, jetstream={"durable": "new", "deliver": "new"})

    async def later() -> list[Batch]:
        await new.open()  # the durable starts here
        await _admin(lambda js: js.publish(f"{name}.a", b'{"id": 4}'))
        [split] = await new.splits(1)
        batches = [b async for b in new.read(split, None)]
        await new.close()
        return batches

    assert [r["id"] for r in rows(asyncio.run(later()))] == [4]


def test_core_subjects_with_wildcards_and_a_queue_group(name: str) -> None:
    stream = make_input(
        batch=50, subjects=[f"{name}.*.temp"], queue_group="loaders", metadata=["subject"],
        stop={"idle": 1},
    )  # fmt: skip

    async def run() -> list[list[Batch]]:
        splits = await stream.splits(2)
        readers = [asyncio.create_task(_collect(stream, split)) for split in splits]
        deadline = time.monotonic() + 10
        while len(stream._consumers) < 2:  # both subscribed (after a flush to the server)
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        client = await nats.connect(URL)
        for i in range(200):
            await client.publish(f"{name}.s{i % 4}.temp", json.dumps({"id": i}).encode())
            await client.publish(f"{name}.s{i % 4}.humidity", b'{"id": -1}')
        await client.flush()
        await client.close()
        got = await asyncio.gather(*readers)
        await stream.close()
        return list(got)

    first, second = asyncio.run(run())
    ids_first, ids_second = {r["id"] for r in rows(first)}, {r["id"] for r in rows(second)}
    assert ids_first and ids_second and not ids_first & ids_second  # one group: shared
    assert ids_first | ids_second == set(range(200))  # no `humidity` message
    assert rows(first)[0]["_subject"].endswith(".temp")


async def _collect(stream: NatsInput, split: Any) -> list[Batch]:
    return [b async for b in stream.read(split, None)]


def test_core_output_publishes_and_rejects_records_without_a_subject(name: str) -> None:
    data = pa.record_batch({"id": [1, 2, 3], "to": [f"{name}.x", None, f"{name}.y"]})
    output = make_output(subject_field="to", fields=["id"])

    async def run() -> list[bytes]:
        client = await nats.connect(URL)
        subscription = await client.subscribe(f"{name}.*")
        await client.flush()
        await output.open(data.schema)
        await output.write(Batch(data))
        await output.flush()
        await output.close()
        got = [(await subscription.next_msg(timeout=5)).data for _ in range(2)]
        await client.close()
        return got

    assert [json.loads(m) for m in asyncio.run(run())] == [{"id": 1}, {"id": 3}]
    [rejected] = output.take_rejected()
    assert rejected.records.column("id").to_pylist() == [2]
    assert "`to` is empty" in rejected.error  # type: ignore[operator]


def test_graceful_stop_acknowledges_what_was_written(name: str, tmp_path: Path) -> None:
    create_stream(name)
    publish(f"{name}.a", BODIES)
    written = stop_midway(
        tmp_path,
        {"type": "nats", "subjects": [f"{name}.a"], "jetstream": {"stream": {"name": name}}},
    )
    # Nothing was acknowledged before the stop (interval 60 s): the stop acknowledged exactly
    # what was written and gave back the rest at once (ack_wait is 60 s: without the
    # acknowledgements, the written messages would still be pending below).
    assert_each_id_once(written, rows(read_split(jetstream_input(name))))
    assert consumer_state(name) == (0, 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server_without_jetstream(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port = free_port()
    process = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_unreachable_server_missing_stream_and_no_jetstream_are_clear_errors(
    name: str, server_without_jetstream: str
) -> None:
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1 .*input\.connection\.servers"):
        read_split(jetstream_input(name, connection={"servers": ["nats://127.0.0.1:1"]}))
    with pytest.raises(TerminalError, match=rf"`{name}` does not exist.*stream\.create: true"):
        read_split(jetstream_input(name))
    with pytest.raises(TerminalError, match=r"JetStream is not enabled.*-js"):
        read_split(jetstream_input(name, connection={"servers": [server_without_jetstream]}))
    output = make_output(
        subject="x", jetstream={}, connection={"servers": [server_without_jetstream]}
    )
    with pytest.raises(TerminalError, match=r"JetStream is not enabled"):
        asyncio.run(output.check_connection())
    nowhere = make_output(subject=f"{name}.nowhere", jetstream={})
    with pytest.raises(TerminalError, match=rf"No JetStream stream .* stores subject `{name}"):
        write_all(nowhere, pa.record_batch({"id": [1]}))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="core NATS needs `subjects`"):
        NatsInputConfig.model_validate({})
    with pytest.raises(ValueError, match="queue_group"):
        NatsInputConfig.model_validate({"subjects": ["a"], "queue_group": "g", "jetstream": {}})
    with pytest.raises(ValueError, match="start_time"):
        NatsInputConfig.model_validate(
            {"subjects": ["a"], "jetstream": {"deliver": "by_start_time"}}
        )
    with pytest.raises(ValueError, match="either `subject` or `subject_field`"):
        NatsOutputConfig.model_validate({})
