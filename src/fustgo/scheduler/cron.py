"""Due times of a schedule: cron expressions read in a time zone, and one-shot times.

croniter walks local wall-clock time, which daylight saving time bends twice a year:
- spring forward: a time that does not exist that day (02:30 in New York on the second
  Sunday of March) runs at the first time that exists after it (03:00);
- fall back: a local time that happens twice (01:30 on the first Sunday of November) runs
  once, the first time, when the expression names its hours (`30 1 * * *`, `0 9-17 * * *`);
  an expression with `*` in its hour field (`*/15 * * * *`) runs in both hours, on time.
  This is what Vixie cron does.
All returned times are aware datetimes in the schedule's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from fustgo.scheduler.settings import Scheduling

MAX_DUE_SCAN = 10_000
"""Due times looked at between two instants at most (a `* * * * * *` schedule left off for
days would otherwise walk millions of seconds)."""


def _cron_times(scheduling: Scheduling, after: datetime) -> Iterator[datetime]:
    from croniter import croniter

    assert scheduling.cron is not None
    zone = scheduling.zone
    walker = croniter(scheduling.cron, after.astimezone(zone))
    fixed_hours = "*" not in scheduling.cron.split()[1]
    while True:
        due: datetime = walker.get_next(datetime)
        due = due.astimezone(zone)
        if fixed_hours and _repeated(due):
            continue  # the second pass of a fall-back hour: once is enough
        yield due


def _repeated(due: datetime) -> bool:
    """Whether `due` is the second time its wall-clock time happens that day (fall back)."""
    first = due.replace(tzinfo=None).replace(tzinfo=due.tzinfo, fold=0)
    return first.utcoffset() != due.utcoffset()


def next_times(scheduling: Scheduling, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` due times strictly after `after` (cron, or the one-shot `run_at`)."""
    times: list[datetime] = []
    if scheduling.run_at is not None and scheduling.run_at > after:
        times.append(scheduling.run_at.astimezone(scheduling.zone))
    if scheduling.cron is not None:
        walker = _cron_times(scheduling, after)
        times.extend(next(walker) for _ in range(count))
    return sorted(times)[:count]


def due_times(scheduling: Scheduling, after: datetime, until: datetime) -> list[datetime]:
    """The due times in (`after`, `until`], oldest first (at most `MAX_DUE_SCAN`)."""
    times: list[datetime] = []
    if scheduling.run_at is not None and after < scheduling.run_at <= until:
        times.append(scheduling.run_at)
    if scheduling.cron is not None:
        for due in _cron_times(scheduling, after):
            if due > until or len(times) >= MAX_DUE_SCAN:
                break
            times.append(due)
    return sorted(times)
