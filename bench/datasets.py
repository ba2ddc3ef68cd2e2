"""Synthetic data sets for benchmarks and large-data tests, written once and reused.

Deterministic (seeded), generated column-wise with NumPy and written with pyarrow's CSV
writer in chunks, so making a 5,000,000-row file takes seconds and little memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

CHUNK_ROWS = 250_000
STATUSES = np.array(["paid", "pending", "refunded", "cancelled"])
CITIES = np.array(["Berlin", "São Paulo", "Shanghai", "Lagos", "Austin", "Kraków", "Osaka"])


def orders_chunk(start: int, rows: int, rng: np.random.Generator) -> pa.RecordBatch:
    """`rows` orders with ids from `start`: 8 columns of mixed types."""
    ids = np.arange(start, start + rows, dtype=np.int64)
    days = rng.integers(0, 365, rows)
    return pa.record_batch(
        {
            "order_id": ids,
            "customer_id": rng.integers(1, 200_000, rows),
            "city": CITIES[rng.integers(0, len(CITIES), rows)],
            "status": STATUSES[rng.integers(0, len(STATUSES), rows)],
            "quantity": rng.integers(1, 20, rows),
            "unit_price": np.round(rng.uniform(0.5, 500.0, rows), 2),
            "discount": np.round(rng.uniform(0.0, 0.3, rows), 3),
            "ordered_on": (np.datetime64("2025-01-01") + days).astype("datetime64[D]"),
        }
    )


def orders_csv(path: Path, rows: int, seed: int = 42) -> Path:
    """Write (once) a CSV of `rows` orders; return its path."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    first = orders_chunk(0, min(rows, CHUNK_ROWS), rng)
    with pacsv.CSVWriter(tmp, first.schema) as writer:
        writer.write_batch(first)
        for start in range(first.num_rows, rows, CHUNK_ROWS):
            writer.write_batch(orders_chunk(start, min(CHUNK_ROWS, rows - start), rng))
    tmp.rename(path)
    return path
