"""Processor chain: FustGo's filter → transform → deduplicate against the same in Polars.

Both read the same Parquet file of generated orders in the same invocation. The
reference is the same operations written directly in Polars (lazy, multi-threaded, whole
file in memory); FustGo streams the file through its processors in batches with bounded
memory. Prints rows/s for each and the ratio (goal ≥ 0.7).

    make bench                      # 5,000,000 rows by default
    CHAIN_ROWS=1000000 .venv/bin/python -m bench.processor_chain
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from bench.datasets import CHUNK_ROWS, orders_chunk
from bench.harness import OUT, PIPELINES, run_fustgo


def orders_parquet(path: Path, rows: int, seed: int = 7) -> Path:
    """Write (once) a Parquet file of `rows` generated orders."""
    import numpy as np

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    first = orders_chunk(0, min(rows, CHUNK_ROWS), rng)
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, first.schema) as writer:
        writer.write_batch(first)
        for start in range(first.num_rows, rows, CHUNK_ROWS):
            writer.write_batch(orders_chunk(start, min(CHUNK_ROWS, rows - start), rng))
    tmp.rename(path)
    return path


def direct_polars(path: Path) -> tuple[int, float]:
    """The same chain in Polars. Returns (rows out, seconds)."""
    started = time.perf_counter()
    out = (
        pl.scan_parquet(path)
        .filter(pl.col("status") != "cancelled")
        .with_columns(
            gross=pl.col("quantity") * pl.col("unit_price"),
            net=pl.col("quantity") * pl.col("unit_price") * (1 - pl.col("discount")),
            price_band=(pl.col("unit_price") / 50).cast(pl.Int64),
        )
        .unique(subset=["customer_id", "price_band"], keep="first", maintain_order=True)
        .collect()
    )
    return out.height, time.perf_counter() - started


def fustgo(path: Path) -> tuple[dict, float]:
    env = {"BENCH_PARQUET": str(path)}
    pipeline = PIPELINES / "processor_chain.yaml"
    summary, measured = run_fustgo(pipeline, env, OUT / "chain-summary.json")
    return summary, measured.seconds


def main() -> None:
    rows = int(os.environ.get("CHAIN_ROWS", "5000000"))
    path = orders_parquet(OUT / f"chain-{rows}.parquet", rows)
    print(f"Input: {path.name}, {rows:,} generated orders, 8 columns")
    polars_rows, polars_seconds = direct_polars(path)
    summary, wall_seconds = fustgo(path)
    assert summary["records_read"] == rows, summary
    assert summary["records_written"] == polars_rows, (summary["records_written"], polars_rows)
    run_seconds = summary["elapsed_seconds"]
    polars_rate, wall_rate, run_rate = (
        rows / polars_seconds,
        rows / wall_seconds,
        rows / run_seconds,
    )
    rows_of = f"{polars_rate:12,.0f} rows/s ({polars_seconds:.2f} s)"
    print(f"(a) Polars, same operations (reference): {rows_of}")
    print(f"(b) fustgo run, streaming             : {wall_rate:12,.0f} rows/s", end="")
    print(f" ({wall_seconds:.2f} s wall)")
    print(f"    of which the run itself           : {run_rate:12,.0f} rows/s", end="")
    print(f" ({run_seconds:.2f} s)")
    print(f"    {summary['records_written']:,} distinct rows out, as in Polars")
    print(
        f"Ratio fustgo / Polars: {wall_rate / polars_rate:.2f} (wall), "
        f"{run_rate / polars_rate:.2f} (run only); goal ≥ 0.70"
    )


if __name__ == "__main__":
    main()
