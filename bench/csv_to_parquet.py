"""CSV → Parquet: FustGo against pyarrow's own streaming read + write of the same file.

The reference is the physical limit on this machine for this job: pyarrow's streaming
CSV reader feeding a ParquetWriter, no processing. FustGo runs a real pipeline (csv →
filter + transform → parquet) as a user would, `fustgo run` in a subprocess, timed from
process start to exit. Both are run in the same invocation; the script prints rows/s
for each and the ratio.

    make bench                      # 2,000,000 rows by default
    BENCH_ROWS=5000000 make bench
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.datasets import orders_csv
from bench.harness import OUT, PIPELINES, run_fustgo


def reference(csv_path: Path, parquet_path: Path) -> tuple[int, float]:
    """pyarrow alone: streaming CSV read → Parquet write. Returns (rows, seconds)."""
    started = time.perf_counter()
    reader = pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(block_size=8 << 20))
    rows = 0
    with pq.ParquetWriter(parquet_path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows, time.perf_counter() - started


def fustgo(csv_path: Path, parquet_path: Path) -> tuple[dict, float]:
    """`fustgo run` of the benchmark pipeline in a subprocess. Returns (summary, seconds)."""
    env = {"BENCH_CSV": str(csv_path), "BENCH_PARQUET": str(parquet_path)}
    pipeline = PIPELINES / "csv_filter_transform_parquet.yaml"
    summary, measured = run_fustgo(pipeline, env, OUT / "summary.json")
    return summary, measured.seconds


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "2000000"))
    csv_path = orders_csv(OUT / f"orders-{rows}.csv", rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"Input: {csv_path.name}, {rows:,} rows, {size_mb:,.0f} MB, 8 columns")

    ref_rows, ref_seconds = reference(csv_path, OUT / "reference.parquet")
    assert ref_rows == rows, (ref_rows, rows)
    summary, fg_seconds = fustgo(csv_path, OUT / "fustgo.parquet")
    assert summary["records_read"] == rows, summary
    written = pq.ParquetFile(OUT / "fustgo.parquet").metadata.num_rows
    assert written == summary["records_written"], (written, summary)

    ref_rate = rows / ref_seconds
    fg_rate = rows / fg_seconds
    inner_rate = rows / summary["elapsed_seconds"]
    print(f"(a) pyarrow streaming CSV → Parquet (the limit): {ref_rate:12,.0f} rows/s", end="")
    print(f"  ({ref_seconds:.2f} s)")
    print(f"(b) fustgo run csv → filter+transform → parquet: {fg_rate:12,.0f} rows/s", end="")
    print(f"  ({fg_seconds:.2f} s, process wall time)")
    print(f"    of which the run itself                    : {inner_rate:12,.0f} rows/s", end="")
    print(f"  ({summary['elapsed_seconds']:.2f} s)")
    print(
        f"    rows written {written:,} (filtered {summary['records_filtered']:,}), "
        f"bottleneck: {summary['bottleneck']}"
    )
    print(
        f"Ratio fustgo / limit: {fg_rate / ref_rate:.2f} (wall), "
        f"{inner_rate / ref_rate:.2f} (run only); goal ≥ 0.60"
    )


if __name__ == "__main__":
    main()
