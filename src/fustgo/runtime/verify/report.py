"""Comparing two fingerprints: what matches, what does not, said so a person can act on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fustgo.runtime.verify.fingerprint import ColumnFingerprint, TableFingerprint


@dataclass(frozen=True)
class Mismatch:
    """One difference; `column` is the source column's name, None for the whole table."""

    column: str | None
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """The verdict of comparing a source (left) with a target (right)."""

    source: TableFingerprint
    target: TableFingerprint
    mismatches: tuple[Mismatch, ...]
    notes: tuple[str, ...] = ()
    """What was not compared and why (extra target columns, a skipped row check)."""

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def mismatched_columns(self) -> list[str]:
        """Source columns with a difference, in column order, each once."""
        return list(dict.fromkeys(m.column for m in self.mismatches if m.column is not None))

    def describe(self) -> str:
        """A few lines for a terminal or a log: the verdict, then each difference and note."""
        compared = len(self.source.columns)
        if self.ok:
            plural = "" if compared == 1 else "s"
            head = f"Source and target match: {self.source.rows:,} rows, {compared} column{plural}."
        else:
            head = f"Source and target differ ({len(self.mismatches)} differences):"
        lines = [head, *(f"  - {m.message}" for m in self.mismatches)]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source_rows": self.source.rows,
            "target_rows": self.target.rows,
            "mismatches": [{"column": m.column, "message": m.message} for m in self.mismatches],
            "notes": list(self.notes),
        }


def compare_fingerprints(
    source: TableFingerprint, target: TableFingerprint, *, column_map: Mapping[str, str]
) -> VerifyReport:
    """Rows, rejected records, then each source column against its target column."""
    mismatches: list[Mismatch] = []
    notes: list[str] = []
    if source.rows != target.rows:
        mismatches.append(
            Mismatch(
                None,
                f"Row counts differ: {source.rows:,} in the source, {target.rows:,} in the target.",
            )
        )
    for side, fingerprint in (("source", source), ("target", target)):
        if fingerprint.rejected:
            mismatches.append(
                Mismatch(
                    None,
                    f"{fingerprint.rejected:,} records of the {side} could not be read (they went "
                    "to its dead letter) and are in no checksum.",
                )
            )
    for name, column in source.columns.items():
        target_name = column_map.get(name, name)
        other = target.columns.get(target_name)
        if other is None:
            mismatches.append(Mismatch(name, f"Column `{name}` is missing in the target."))
            continue
        problem = _column_problem(_label(name, target_name), column, other)
        if problem:
            mismatches.append(Mismatch(name, problem))
    mapped = [column_map.get(name, name) for name in source.columns]
    extra = [name for name in target.columns if name not in mapped]
    if extra:
        notes.append(uncompared_note(extra))
    if mapped != list(target.columns):
        notes.append("The row check was skipped: the target's columns differ from the source's.")
    elif not mismatches and source.row_checksum != target.row_checksum:
        mismatches.append(
            Mismatch(
                None,
                "Every column holds the same values, but not in the same rows: values were "
                "moved between rows.",
            )
        )
    return VerifyReport(source, target, tuple(mismatches), tuple(notes))


def uncompared_note(target_columns: list[str]) -> str:
    listed = ", ".join(f"`{name}`" for name in target_columns)
    return f"Target columns not in the source were not compared: {listed}."


def _column_problem(label: str, source: ColumnFingerprint, target: ColumnFingerprint) -> str | None:
    if source.nulls == target.nulls and source.checksum == target.checksum:
        return None
    parts = []
    if source.nulls != target.nulls:
        parts.append(f"{source.nulls:,} NULLs in the source, {target.nulls:,} in the target")
    if source.checksum != target.checksum:
        parts.append(f"checksums differ ({source.checksum} vs {target.checksum})")
    message = f"Column {label}: {'; '.join(parts)}."
    if source.kind != target.kind and "null" not in (source.kind, target.kind):
        message += (
            f" It was compared as {source.kind} ({source.arrow_type}) in the source and as "
            f"{target.kind} ({target.arrow_type}) in the target, which never match; cast one "
            "side or leave the column out."
        )
    return message


def _label(name: str, target_name: str) -> str:
    return f"`{name}`" if name == target_name else f"`{name}` (target `{target_name}`)"
