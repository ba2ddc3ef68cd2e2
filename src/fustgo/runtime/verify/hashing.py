"""Seeded 64-bit hashes of canonical values, vectorized with NumPy, stable across versions.

Polars' `hash` and Arrow's internal hashes may change between releases, so a fingerprint
taken by one FustGo version could not be compared with one taken by another. These are
defined here, in terms of uint64 arithmetic only (NumPy wraps modulo 2^64):

- `fmix64` is MurmurHash3's 64-bit finalizer, a bijection on uint64 with full avalanche.
- A fixed-width value `v` (its int64 or IEEE-754 bits) hashes to `fmix64(v XOR seed)`: a
  bijection, so two different values of one kind never share a hash.
- A byte string `b` of length `n` hashes to `fmix64(S + fmix64(n XOR seed))` where
  `S = Σ (b[i] + 1) · K[i] mod 2^64` and `K[i] = fmix64(i · φ64) | 1` is a fixed odd key per
  position: a linear universal hash over the bytes, finished by a mixer. Two strings that
  differ in one byte always get different `S` (an odd key times a non-zero difference below
  256 is never 0 mod 2^64); otherwise they collide with probability about 2^-57.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U64 = npt.NDArray[np.uint64]
MASK64 = (1 << 64) - 1
GOLDEN64 = np.uint64(0x9E3779B97F4A7C15)
NULL_HASH = np.uint64(0x6E75_6C6C_6E75_6C6C)
"""The hash of NULL in every column, whatever its kind (`null` counts tell NULLs apart)."""
SECOND_SEED = np.uint64(0xD6E8FEB86659FD93)
"""Seed of the second checksum, a sum of `fmix64(h XOR SECOND_SEED)` over the value hashes."""
CHUNK_BYTES = 1 << 18
"""Bytes of string data hashed at a time: bounds the uint64 temporaries to a few MiB."""
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_POSITION_KEYS = 1 << 16
"""Position keys kept in a table; longer strings compute theirs (the same values) on the fly."""


def fmix64(values: U64) -> U64:
    """MurmurHash3's finalizer, in place on `values` (which it returns)."""
    values ^= values >> _S33
    values *= _M1
    values ^= values >> _S33
    values *= _M2
    values ^= values >> _S33
    return values


def seed_of(label: str) -> np.uint64:
    """A fixed seed derived from a short label (the kind name), the same on every platform."""
    word = int.from_bytes(label.encode("utf-8")[:8].ljust(8, b"\0"), "little")
    return fmix64(np.array([word], dtype=np.uint64) * GOLDEN64)[0]


def hash_fixed(bits: npt.NDArray[np.int64] | U64, seed: np.uint64) -> U64:
    """Hashes of fixed-width values given as their 64 bits (int64 values or float64 bits)."""
    return fmix64(bits.view(np.uint64) ^ seed)


def _position_keys(positions: npt.NDArray[np.int64]) -> U64:
    keys = fmix64(positions.astype(np.uint64) * GOLDEN64)
    return keys | np.uint64(1)


_KEY_TABLE = _position_keys(np.arange(_POSITION_KEYS, dtype=np.int64))


def hash_bytes(array: pa.Array, seed: np.uint64) -> U64:
    """Hashes of the values of a binary or large_binary array (NULL slots: garbage, masked later).

    Works on the offsets and data buffers directly, a chunk of about `CHUNK_BYTES` at a time.
    """
    offset_type = np.int64 if pa.types.is_large_binary(array.type) else np.int32
    _, offsets_buffer, data_buffer = array.buffers()
    count = len(array)
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type, count=array.offset + count + 1)
    offsets = offsets[array.offset :].astype(np.int64)
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    out = np.empty(count, dtype=np.uint64)
    bounds = np.searchsorted(offsets, np.arange(offsets[0], offsets[-1], CHUNK_BYTES), side="right")
    cuts = np.unique(np.concatenate([[0], np.clip(bounds - 1, 0, count), [count]]))
    for first, last in itertools.pairwise(cuts):
        out[first:last] = _hash_rows(data, offsets[first : last + 1], seed)
    return out


def _hash_rows(data: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64], seed: np.uint64) -> U64:
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    chunk = data[offsets[0] : offsets[-1]]
    positions = np.arange(len(chunk), dtype=np.int64) - np.repeat(starts - offsets[0], lengths)
    if len(positions) and positions.max() >= _POSITION_KEYS:
        keys = _position_keys(positions)
    else:
        keys = _KEY_TABLE[positions]
    keys *= chunk.astype(np.uint64) + np.uint64(1)
    sums = np.zeros(len(chunk) + 1, dtype=np.uint64)
    np.cumsum(keys, out=sums[1:])
    local = offsets - offsets[0]
    segment = sums[local[1:]] - sums[local[:-1]]
    return fmix64(segment + fmix64(lengths.astype(np.uint64) ^ seed))


def second_hash(hashes: U64) -> U64:
    """The hashes the second checksum sums: a different bijection of the same value hashes."""
    return fmix64(hashes ^ SECOND_SEED)


def wrapping_sum(hashes: U64) -> int:
    """Σ hashes mod 2^64 (NumPy's uint64 sum wraps)."""
    return int(np.add.reduce(hashes, dtype=np.uint64)) if len(hashes) else 0
