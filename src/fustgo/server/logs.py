"""Per-execution logs: JSON lines on disk, one file per run and day (design doc §5.5, §10).

Runs share the server process, so a log record cannot tell by its logger which run it
belongs to. The run's task opens an `ExecutionLog` and makes it current (`activate`: a
context variable, inherited by the tasks the run starts and by `asyncio.to_thread`); one
handler on the `fustgo` logger writes every record to the current run's file, whatever
the module that logged it. Records logged outside any run (requests, startup) are not in
any execution's log.

Layout: `<logs>/<YYYY-MM-DD>/<job_id>/<execution_id>.jsonl`, by UTC day. A run going on
past midnight continues in the next day's folder (daily rotation); day folders more than
`retention_days` old are deleted when the server starts and whenever a new day begins.
One line per record: `timestamp` (UTC, ISO 8601), `level` (`DEBUG`, `INFO`, `WARN`,
`ERROR`, `FATAL`), `service`, `job_id`, `execution_id`, `worker_id`, `logger`, `message`,
and `error` (the exception with its traceback) when there was one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import threading
import traceback
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from fustgo.store.errors import InvalidRequestError

LOGS_DIR = Path(".fustgo/logs")
"""Where execution logs go, relative to the server's base folder (the main config's)."""
RETENTION_DAYS = 7
CAPTURE_LEVEL = logging.INFO
"""Records below this level are not kept in execution logs."""
SERVICE = "worker"

LEVELS: dict[str, int] = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
    "CRITICAL": logging.CRITICAL,
}
"""Level names a filter accepts (any case); entries use the design's names."""
_NAMES = [(logging.CRITICAL, "FATAL"), (logging.ERROR, "ERROR"), (logging.WARNING, "WARN"),
          (logging.INFO, "INFO"), (logging.DEBUG, "DEBUG")]  # fmt: skip
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

Clock = Callable[[], datetime]
Entry = dict[str, Any]

_current: ContextVar[ExecutionLog | None] = ContextVar("fustgo_execution_log", default=None)


def utc_now() -> datetime:
    return datetime.now(UTC)


def level_name(levelno: int) -> str:
    """The design's name for a numeric level (`WARNING` is `WARN`, `CRITICAL` is `FATAL`)."""
    return next((name for number, name in _NAMES if levelno >= number), "DEBUG")


def parse_level(name: str) -> int:
    """A level name from a request; `InvalidRequestError` naming the choices otherwise."""
    number = LEVELS.get(name.strip().upper())
    if number is None:
        raise InvalidRequestError(
            f"Unknown log level `{name}`.",
            field="level",
            hint="Use DEBUG, INFO, WARN, ERROR or FATAL (that level and above are shown).",
        )
    return number


def _check_id(value: str, field: str) -> str:
    """Ids become path parts: only the characters ids are made of."""
    if not _ID.match(value) or value in (".", ".."):
        raise InvalidRequestError(f"`{value}` is not a valid {field}.", field=field)
    return value


@dataclass(frozen=True)
class LogQuery:
    """Which entries to read: level and above, a keyword, a time range (aware datetimes)."""

    min_level: int = logging.NOTSET
    keyword: str | None = None
    """Case-insensitive, in the message or the error."""
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, entry: Entry) -> bool:
        if LEVELS.get(str(entry.get("level")), logging.NOTSET) < self.min_level:
            return False
        if self.keyword:
            needle = self.keyword.casefold()
            text = f"{entry.get('message', '')}\n{entry.get('error') or ''}".casefold()
            if needle not in text:
                return False
        if self.since is not None or self.until is not None:
            stamp = _parse_time(entry.get("timestamp"))
            if stamp is None:
                return False
            if self.since is not None and stamp < self.since:
                return False
            if self.until is not None and stamp > self.until:
                return False
        return True

    def covers(self, day: date) -> bool:
        """Whether entries of `day` (UTC) can be in the range (whole files skipped if not)."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if self.since is not None and start + timedelta(days=1) <= self.since:
            return False
        return not (self.until is not None and start > self.until)


class LogStore:
    """The execution logs under one folder: writing (through `ExecutionLog`), retention,
    and reading with filters."""

    def __init__(
        self,
        directory: Path,
        *,
        retention_days: int = RETENTION_DAYS,
        clock: Clock = utc_now,
        worker_id: str | None = None,
    ) -> None:
        self.directory = directory
        self.retention_days = retention_days
        self.clock = clock
        self.worker_id = worker_id
        self._purged_on: date | None = None
        self._lock = threading.Lock()

    # --------------------------------------------------------------------------- writing

    def open(
        self, job_id: str, execution_id: str, *, on_entry: Callable[[Entry], None] | None = None
    ) -> ExecutionLog:
        """The log of a run that starts; `activate` it in the run's task."""
        install_handler()
        return ExecutionLog(
            self, _check_id(job_id, "job_id"), _check_id(execution_id, "execution_id"), on_entry
        )

    def day_file(self, day: date, job_id: str, execution_id: str) -> Path:
        """Where a run's entries of `day` go; the first file of a new day purges old days."""
        if self._purged_on != day:
            self.purge()
        return self.directory / day.isoformat() / job_id / f"{execution_id}.jsonl"

    def purge(self) -> int:
        """Delete the day folders more than `retention_days` old; returns how many."""
        today = self.clock().astimezone(UTC).date()
        oldest_kept = today - timedelta(days=self.retention_days)
        removed = 0
        with self._lock:
            self._purged_on = today
            for day, folder in self._days():
                if day < oldest_kept:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
        return removed

    # --------------------------------------------------------------------------- reading

    def files(self, job_id: str, execution_id: str | None = None) -> list[tuple[date, Path]]:
        """A job's log files (or one execution's), oldest first."""
        _check_id(job_id, "job_id")
        pattern = f"{_check_id(execution_id, 'execution_id')}.jsonl" if execution_id else "*.jsonl"
        found = []
        for day, folder in self._days():
            for path in (folder / job_id).glob(pattern):
                found.append((day, _first_timestamp(path), path.name, path))
        found.sort(key=lambda item: item[:3])
        return [(day, path) for day, _first, _name, path in found]

    def read(
        self, job_id: str, query: LogQuery, *, execution_id: str | None = None
    ) -> Iterator[Entry]:
        """The entries that match, in time order (a job runs once at a time, and each file
        is in order: files sorted by their first entry are too)."""
        for day, path in self.files(job_id, execution_id):
            if not query.covers(day):
                continue
            for entry in _entries(path):
                if query.matches(entry):
                    yield entry

    def _days(self) -> list[tuple[date, Path]]:
        if not self.directory.is_dir():
            return []
        days = []
        for folder in self.directory.iterdir():
            with contextlib.suppress(ValueError):
                days.append((date.fromisoformat(folder.name), folder))
        return sorted(days)


class ExecutionLog:
    """One run's log: writes its records to the file of the day, tells `on_entry`."""

    def __init__(
        self,
        store: LogStore,
        job_id: str,
        execution_id: str,
        on_entry: Callable[[Entry], None] | None,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.execution_id = execution_id
        self.on_entry = on_entry
        self._day: date | None = None
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.closed = False

    def activate(self) -> None:
        """Make this the current run's log in the calling task (and what it starts)."""
        _current.set(self)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """This run's log for a block outside its task (a stop requested through the API)."""
        token = _current.set(self)
        try:
            yield
        finally:
            _current.reset(token)

    def write(self, record: logging.LogRecord) -> Entry | None:
        """Append a record; None once closed (a late record of a finished run)."""
        now = self.store.clock().astimezone(UTC)
        entry: Entry = {
            "timestamp": now.isoformat(timespec="microseconds"),
            "level": level_name(record.levelno),
            "service": SERVICE,
            "job_id": self.job_id,
            "execution_id": self.execution_id,
            "worker_id": self.store.worker_id,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            if self.closed:
                return None
            day = now.date()
            if self._file is None or day != self._day:
                self._rotate(day)
            assert self._file is not None
            self._file.write(line)
            self._file.flush()  # readers of the logs endpoint see it at once
        if self.on_entry is not None:
            self.on_entry(entry)
        return entry

    def close(self) -> None:
        with self._lock:
            self.closed = True
            if self._file is not None:
                self._file.close()
                self._file = None

    def _rotate(self, day: date) -> None:
        if self._file is not None:
            self._file.close()
        path = self.store.day_file(day, self.job_id, self.execution_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._day = day


class _RunLogHandler(logging.Handler):
    """Sends each record to the log of the run whose task logged it."""

    def __init__(self) -> None:
        super().__init__(CAPTURE_LEVEL)
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        run = _current.get()
        if run is None or getattr(self._busy, "on", False):
            return  # outside any run, or logged while writing a record (no loops)
        self._busy.on = True
        try:
            run.write(record)
        except Exception:
            self.handleError(record)
        finally:
            self._busy.on = False


_handler = _RunLogHandler()
_install_lock = threading.Lock()


def install_handler() -> None:
    """Route `fustgo` records to run logs; called whenever a run's log opens, since a
    `configure_logging` (the CLI's) replaces the `fustgo` logger's handlers. INFO records
    must be made at all: a `fustgo` logger set above INFO (or Python's default, WARNING)
    is lowered to INFO. With no handler of its own, the console still shows warnings only."""
    logger = logging.getLogger("fustgo")
    with _install_lock:
        if _handler not in logger.handlers:
            logger.addHandler(_handler)
        if logger.getEffectiveLevel() > CAPTURE_LEVEL:
            logger.setLevel(CAPTURE_LEVEL)


def current_log() -> ExecutionLog | None:
    """The log of the run the calling task belongs to."""
    return _current.get()


def _entries(path: Path) -> Iterator[Entry]:
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:  # purged meanwhile
        return
    with handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # the line being written right now; it is read next time
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # not ours (a file edited by hand)
            if isinstance(entry, dict):
                yield entry


def _first_timestamp(path: Path) -> str:
    with contextlib.closing(_entries(path)) as entries:
        return str(next(entries, {}).get("timestamp", ""))


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A request's time: naive ones are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
