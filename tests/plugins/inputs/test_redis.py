"""Redis input and output (streams, lists, pub/sub, hashes, sets) against the real server
on 127.0.0.1:6379. Each test uses keys under its own unique prefix and deletes them."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import redis

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.redis import RedisInput, RedisInputConfig
from fustgo.plugins.outputs.redis import RedisOutput, RedisOutputConfig
from tests.cli_runner import run_fustgo
from tests.plugins.streams.graceful_stop import BODIES, MESSAGES, assert_each_id_once, stop_midway

pytestmark = pytest.mark.integration

SERVER = {"host": "127.0.0.1", "port": 6379}


@pytest.fixture
def db() -> Iterator[redis.Redis]:
    client = redis.Redis(**SERVER)  # type: ignore[arg-type]
    yield client
    client.close()


@pytest.fixture
def prefix(db: redis.Redis) -> Iterator[str]:
    """A unique key prefix; every key under it is deleted afterwards."""
    name = f"fg:{uuid.uuid4().hex[:10]}"
    yield name
    keys = list(db.scan_iter(match=f"{name}*"))
    if keys:
        db.delete(*keys)


def make_input(batch: int = 100, **config: Any) -> RedisInput:
    settings = {
        "connection": SERVER,
        "stop": {"idle": 0.5},
        "batching": {"period": 0.1},
        **config,
    }
    return RedisInput(
        RedisInputConfig.model_validate(settings),
        PluginContext(component_path="input", batch_size=batch),
    )


def read_split(stream: RedisInput, index: int = 0, ack: bool = True) -> list[Batch]:
    """Read one split until idle, acknowledge everything read (unless `ack` is false)."""

    async def run() -> list[Batch]:
        splits = await stream.splits(index + 1)
        batches = []
        try:
            batches = [b async for b in stream.read(splits[index], None)]
            if ack and batches:
                await stream.ack(batches[-1].checkpoint)  # type: ignore[arg-type]
        finally:
            await stream.close()
        return batches

    return asyncio.run(run())


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def make_output(**config: Any) -> RedisOutput:
    return RedisOutput(
        RedisOutputConfig.model_validate({"connection": SERVER, **config}),
        PluginContext(component_path="output"),
    )


def write_all(output: RedisOutput, data: pa.RecordBatch) -> None:
    async def run() -> None:
        await output.open(data.schema)
        try:
            await output.write(Batch(data))
            await output.flush()
        finally:
            await output.close()

    asyncio.run(run())


def fill_stream(db: redis.Redis, key: str, bodies: list[bytes]) -> list[str]:
    pipe = db.pipeline(transaction=False)
    for body in bodies:
        pipe.xadd(key, {"data": body})
    return [entry_id.decode() for entry_id in pipe.execute()]


def pending(db: redis.Redis, key: str, group: str = "fustgo") -> int:
    return int(db.xpending(key, group)["pending"])


def test_stream_round_trip_with_metadata_and_trimming(db: redis.Redis, prefix: str) -> None:
    key = f"{prefix}:orders"
    data = pa.record_batch({"id": list(range(300)), "name": [f"n{i}" for i in range(300)]})
    output = make_output(stream={"key": key, "maxlen": 1000})
    write_all(output, data)
    assert db.xlen(key) == 300 and output.stats().records_written == 300
    got = rows(
        read_split(make_input(stream={"keys": [key]}, metadata=["stream", "id", "timestamp"]))
    )
    assert [r["id"] for r in got] == list(range(300))  # one consumer: stream order
    first = got[0]
    assert first["name"] == "n0" and first["_stream"] == key
    assert first["_id"] == db.xrange(key, count=1)[0][0].decode()
    assert abs(time.time() - first["_timestamp"].timestamp()) < 60
    assert pending(db, key) == 0  # every entry acknowledged (XACK)


def test_whole_entries_as_records_and_entry_fields_from_records(
    db: redis.Redis, prefix: str
) -> None:
    key = f"{prefix}:events"
    output = make_output(stream={"key": key, "field": None})
    write_all(output, pa.record_batch({"id": [1, 2], "tags": [["a"], None], "ok": [True, False]}))
    assert [fields for _, fields in db.xrange(key)] == [
        {b"id": b"1", b"tags": b'["a"]', b"ok": b"true"}, {b"id": b"2", b"ok": b"false"}
    ]  # fmt: skip
    got = rows(read_split(make_input(stream={"keys": [key], "field": None})))
    assert got == [
        {"id": "1", "tags": '["a"]', "ok": "true"}, {"id": "2", "tags": None, "ok": "false"}
    ]  # fmt: skip


def test_poison_entry_goes_to_the_dead_letter_with_stream_and_id(
    db: redis.Redis, prefix: str, tmp_path: Path
) -> None:
    key = f"{prefix}:orders"
    bodies = [json.dumps({"id": i}).encode() for i in range(50)]
    bodies[17] = b"{not json"
    ids = fill_stream(db, key, bodies)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"""
name: redis-poison
settings: {{checkpoint: {{interval: 0s, path: state.db}}, error_limit: {{records: 5}}}}
input:
  type: redis
  connection: {{host: 127.0.0.1}}
  stream: {{keys: ["{key}"]}}
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
    assert record["_stream"] == key and record["_id"] == ids[17]
    assert "JSON" in letter["error"]
    assert pending(db, key) == 0  # the poison entry is acknowledged too


def test_a_consumer_that_dies_rereads_its_pending_entries_first(
    db: redis.Redis, prefix: str
) -> None:
    key = f"{prefix}:orders"
    fill_stream(db, key, [json.dumps({"id": i}).encode() for i in range(40)])
    first = rows(read_split(make_input(stream={"keys": [key]}, stop={"messages": 25}), ack=False))
    assert [r["id"] for r in first] == list(range(25))
    assert pending(db, key) == 25
    again = make_input(batch=10, stream={"keys": [key]})
    batches = read_split(again)
    assert [r["id"] for r in rows(batches)] == list(range(40))  # pending (replay), then new
    assert [r["id"] for r in rows(batches[:1])] == list(range(10))
    assert pending(db, key) == 0


def test_entries_of_a_consumer_that_is_gone_are_claimed_after_claim_idle(
    db: redis.Redis, prefix: str
) -> None:
    key = f"{prefix}:orders"
    fill_stream(db, key, [json.dumps({"id": i}).encode() for i in range(30)])
    gone = make_input(stream={"keys": [key], "consumer": "gone"}, stop={"messages": 20})
    assert len(rows(read_split(gone, ack=False))) == 20
    time.sleep(0.3)  # the entries must have been idle longer than claim_idle
    other = make_input(stream={"keys": [key], "consumer": "other", "claim_idle": 0.2})
    assert sorted(r["id"] for r in rows(read_split(other))) == list(range(30))
    assert pending(db, key) == 0


def test_splits_are_consumers_of_one_group(db: redis.Redis, prefix: str) -> None:
    key = f"{prefix}:orders"
    fill_stream(db, key, [json.dumps({"id": i}).encode() for i in range(400)])
    stream = make_input(batch=50, stream={"keys": [key]})

    async def run() -> list[list[Batch]]:
        splits = await stream.splits(2)

        async def one(index: int) -> list[Batch]:
            got = []
            async for batch in stream.read(splits[index], None):
                got.append(batch)
                await stream.ack(batch.checkpoint)  # type: ignore[arg-type]
                await asyncio.sleep(0.01)
            return got

        both = await asyncio.gather(one(0), one(1))
        await stream.close()
        return list(both)

    first, second = asyncio.run(run())
    ids_first, ids_second = {r["id"] for r in rows(first)}, {r["id"] for r in rows(second)}
    assert ids_first and ids_second and not ids_first & ids_second
    assert ids_first | ids_second == set(range(400))
    consumers = {c["name"].decode() for c in db.xinfo_consumers(key, "fustgo")}
    assert consumers == {"fustgo-0", "fustgo-1"}


def test_reliable_list_keeps_unwritten_elements_in_the_processing_list(
    db: redis.Redis, prefix: str
) -> None:
    key = f"{prefix}:jobs"
    output = make_output(list={"key": key})
    write_all(output, pa.record_batch({"id": list(range(30))}))
    assert db.llen(key) == 30
    stream = make_input(batch=10, list={"key": key}, metadata=["list"])

    async def run() -> list[Batch]:
        [split] = await stream.splits(1)
        batches = [b async for b in stream.read(split, None)]
        await stream.ack(batches[1].checkpoint)  # type: ignore[arg-type]
        await stream.close()
        return batches

    batches = asyncio.run(run())
    assert [r["id"] for r in rows(batches)] == list(range(30))
    assert rows(batches)[0]["_list"] == key
    processing = f"{key}:processing:fustgo-0"
    assert db.llen(key) == 0
    assert [json.loads(v)["id"] for v in db.lrange(processing, 0, -1)] == list(range(20, 30))
    db.rpush(key, json.dumps({"id": 30}))
    again = rows(read_split(make_input(batch=100, list={"key": key})))
    assert [r["id"] for r in again] == list(range(20, 31))  # the processing list first
    assert db.llen(processing) == 0 and db.llen(key) == 0


def test_plain_list_pops(db: redis.Redis, prefix: str) -> None:
    key = f"{prefix}:jobs"
    db.rpush(key, *[json.dumps({"id": i}) for i in range(25)])
    got = rows(read_split(make_input(batch=10, list={"key": key, "reliable": False}), ack=False))
    assert [r["id"] for r in got] == list(range(25))
    assert db.llen(key) == 0 and not list(db.scan_iter(match=f"{key}:processing*"))


def test_pubsub_channels_and_patterns(db: redis.Redis, prefix: str) -> None:
    stream = make_input(
        pubsub={"channels": [f"{prefix}:a"], "patterns": [f"{prefix}:p.*"]},
        metadata=["channel", "pattern"],
    )

    async def run() -> list[Batch]:
        [split] = await stream.splits(4)
        reader = asyncio.create_task(_collect(stream, split))
        deadline = time.monotonic() + 10
        while db.pubsub_numsub(f"{prefix}:a")[0][1] < 1 or db.pubsub_numpat() < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        for i in range(20):
            db.publish(f"{prefix}:a" if i % 2 else f"{prefix}:p.x", json.dumps({"id": i}))
        db.publish(f"{prefix}:other", json.dumps({"id": -1}))
        got = await reader
        await stream.close()
        return got

    got = rows(asyncio.run(run()))
    assert sorted(r["id"] for r in got) == list(range(20))
    by_id = {r["id"]: r for r in got}
    assert by_id[1]["_channel"] == f"{prefix}:a" and by_id[1]["_pattern"] is None
    assert by_id[0]["_channel"] == f"{prefix}:p.x" and by_id[0]["_pattern"] == f"{prefix}:p.*"


async def _collect(stream: RedisInput, split: Any) -> list[Batch]:
    return [b async for b in stream.read(split, None)]


def test_hashes_and_sets_with_keys_from_fields_and_refused_commands(
    db: redis.Redis, prefix: str
) -> None:
    db.set(f"{prefix}:user:3", "a string, not a hash")
    data = pa.record_batch(
        {"id": [1, 2, 3, None], "name": ["ada", None, "cy", "x"], "score": [1.5, 2.0, 3.0, 4.0]}
    )
    output = make_output(hash={"key": prefix + ":user:{id}"})
    write_all(output, data)
    assert db.hgetall(f"{prefix}:user:1") == {b"name": b"ada", b"score": b"1.5"}
    assert db.hgetall(f"{prefix}:user:2") == {b"score": b"2"}
    unkeyed, refused = output.take_rejected()
    assert unkeyed.records.column("name").to_pylist() == ["x"]
    assert "is null" in unkeyed.error  # type: ignore[operator]
    assert refused.records.column("id").to_pylist() == [3]
    assert "WRONGTYPE" in refused.error[0].as_py()  # type: ignore[index]

    tags = {"type": "string", "field": "tag"}
    members = make_output(set={"key": prefix + ":tags:{user}"}, format=tags)
    write_all(members, pa.record_batch({"user": ["a", "a", "b"], "tag": ["x", "x", "y"]}))
    assert db.smembers(f"{prefix}:tags:a") == {b"x"} and db.smembers(f"{prefix}:tags:b") == {b"y"}


def test_graceful_stop_acknowledges_what_was_written(
    db: redis.Redis, prefix: str, tmp_path: Path
) -> None:
    key = f"{prefix}:orders"
    fill_stream(db, key, BODIES)
    written = stop_midway(
        tmp_path, {"type": "redis", "connection": {"host": "127.0.0.1"}, "stream": {"keys": [key]}}
    )
    # Nothing was acknowledged before the stop (interval 60 s): what is still pending is
    # exactly what was read and not written; the same consumer re-reads it first.
    assert pending(db, key) <= MESSAGES - len(written)
    assert_each_id_once(written, rows(read_split(make_input(stream={"keys": [key]}))))
    assert pending(db, key) == 0


def test_unreachable_server_and_wrong_key_type_are_clear_errors(
    db: redis.Redis, prefix: str
) -> None:
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1/0 .*`input\.connection\.host`"):
        read_split(make_input(stream={"keys": ["x"]}, connection={"host": "127.0.0.1", "port": 1}))
    db.set(f"{prefix}:plain", "text")
    with pytest.raises(TerminalError, match=r"creating group .*(WRONGTYPE|not a stream)|key"):
        read_split(make_input(stream={"keys": [f"{prefix}:plain"]}))
    with pytest.raises(TerminalError, match=r"output\.hash\.key.*\['user'\]"):
        write_all(make_output(hash={"key": "u:{user}"}), pa.record_batch({"id": [1]}))


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="exactly one of `stream`, `list` and `pubsub`"):
        RedisInputConfig.model_validate({})
    with pytest.raises(ValueError, match="exactly one of `stream`, `list`, `hash` and `set`"):
        RedisOutputConfig.model_validate({"list": {"key": "a"}, "set": {"key": "b"}})
    with pytest.raises(ValueError, match="channels"):
        RedisInputConfig.model_validate({"pubsub": {}})
