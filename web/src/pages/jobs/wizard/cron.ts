/** The next times of a 5-field cron expression in a time zone, for the schedule step's preview
 * before the job exists (the server's `next_runs` answers once it is saved). */
import dayjs, { type Dayjs } from "dayjs";
import timezone from "dayjs/plugin/timezone";
import utc from "dayjs/plugin/utc";

dayjs.extend(utc);
dayjs.extend(timezone);

const RANGES: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

function field(text: string, [low, high]: [number, number]): Set<number> | null {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) return null;
    const step = match[2] ? Number(match[2]) : 1;
    let [from, to] = [low, high];
    if (match[1] !== "*") {
      const [a, b] = match[1].split("-").map(Number);
      from = a;
      to = b ?? (match[2] ? high : a);
    }
    if (from < low || to > high || from > to || step < 1) return null;
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

/** Up to `count` times after now; null when the expression is not one this preview reads. */
export function nextCronTimes(expression: string, zone: string, count = 5): Dayjs[] | null {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) return null;
  const sets = parts.map((part, index) => field(part, RANGES[index]));
  if (sets.some((set) => set === null)) return null;
  const [minutes, hours, days, months, weekdays] = sets as Set<number>[];
  if (weekdays.has(7)) weekdays.add(0);
  const anyDay = parts[2] === "*";
  const anyWeekday = parts[4] === "*";
  let time: Dayjs;
  try {
    time = dayjs().tz(zone).second(0).millisecond(0).add(1, "minute");
  } catch {
    return null;
  }
  const found: Dayjs[] = [];
  for (let step = 0; step < 60 * 24 * 366 && found.length < count; step += 1) {
    const dayOk = anyDay && anyWeekday ? true
      : anyDay ? weekdays.has(time.day())
      : anyWeekday ? days.has(time.date())
      : days.has(time.date()) || weekdays.has(time.day());
    if (minutes.has(time.minute()) && hours.has(time.hour()) && months.has(time.month() + 1) && dayOk) found.push(time);
    time = time.add(1, "minute");
  }
  return found;
}
