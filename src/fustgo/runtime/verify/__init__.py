"""Prove a copy complete and correct: row counts and an order-independent checksum per column.

`table_fingerprint` streams an opened input and sums seeded 64-bit hashes of each column's
normalized values (`normalize`, `hashing`); `TableFingerprint.compare` names every column
that differs; `verify` builds both sides from input components and does both. The rules,
the hash and the odds of a false match are in docs/verify.md.
"""

from fustgo.runtime.verify.fingerprint import ColumnFingerprint, TableFingerprint, table_fingerprint
from fustgo.runtime.verify.normalize import Kind
from fustgo.runtime.verify.report import Mismatch, VerifyReport
from fustgo.runtime.verify.run import build_input, verify

__all__ = [
    "ColumnFingerprint",
    "Kind",
    "Mismatch",
    "TableFingerprint",
    "VerifyReport",
    "build_input",
    "table_fingerprint",
    "verify",
]
