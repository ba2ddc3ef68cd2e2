"""examples/nats-to-postgresql.yaml against the local NATS (JetStream) and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import nats
import pytest

from tests.cli_runner import REPO, run_fustgo
from tests.databases import pg

pytestmark = pytest.mark.integration


async def _jetstream(work):  # type: ignore[no-untyped-def]
    client = await nats.connect("nats://127.0.0.1:4222")
    try:
        return await work(client.jetstream())
    finally:
        await client.close()


def test_example_upserts_order_events_and_dead_letters_a_bad_one(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    stream, prefix, table = f"FGEX{suffix}", f"fgex{suffix}", f"fg_nats_orders_{suffix}"
    dead = tmp_path / "failed.jsonl"
    env = {
        "NATS_STREAM": stream,
        "NATS_PREFIX": prefix,
        "PG_TABLE": table,
        "DEAD_LETTER": str(dead),
    }
    example = REPO / "examples" / "nats-to-postgresql.yaml"
    idle = ["--set", "input.stop.idle=1s"]
    try:
        # The first run creates the stream and the durable consumer (nothing to read yet).
        first = run_fustgo("run", str(example), "--quiet", *idle, cwd=tmp_path, env=env)
        assert first.exit_code == 0, first.stdout + first.stderr

        async def send(js):  # type: ignore[no-untyped-def]
            for order_id, status, amount in [(1, "new", 9.5), (2, "new", 3.0), (1, "paid", 9.5)]:
                body = json.dumps({"order_id": order_id, "status": status, "amount": amount})
                await js.publish(f"{prefix}.{status}", body.encode())
            await js.publish(f"{prefix}.new", b"{oops")

        asyncio.run(_jetstream(send))
        # One split: both events of order 1 in one consumer, in stream order.
        one = ["--set", "settings.parallelism=1"]
        second = run_fustgo("run", str(example), "--quiet", *idle, *one, cwd=tmp_path, env=env)
        assert second.exit_code == 0, second.stdout + second.stderr
        got = pg(f"SELECT order_id, status FROM {table} ORDER BY 1")
        assert got == [(1, "paid"), (2, "new")]
        [letter] = [json.loads(line) for line in dead.read_text().splitlines()]
        record = letter["record"]
        record = json.loads(record) if isinstance(record, str) else record
        assert record["_subject"] == f"{prefix}.new" and record["_sequence"] == 4
        assert "JSON" in letter["error"]
    finally:
        pg(f"DROP TABLE IF EXISTS {table}")
        asyncio.run(_jetstream(lambda js: js.delete_stream(stream)))
