import { WEEKDAYS, type Settings } from '../agency/settings';

/**
 * When summaries are due. Each agency has a slot in its own time zone (weekly: a weekday and
 * hour, Monday 09:00 by default; monthly: a day of the month and hour); at the slot the period
 * that just ended is summarised. Pure functions of the settings and the clock, so time zones and
 * daylight-saving changes are tested without waiting.
 */

export interface SummaryPeriod {
  /** `YYYY-Www` (ISO week) or `YYYY-MM`. */
  key: string;
  label: string;
  /** The period's bounds as UTC instants, `from` inclusive, `to` exclusive. */
  from: string;
  to: string;
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number; // 0 = Monday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function localTime(instant: Date, timeZone: string): LocalTime {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23', weekday: 'long' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday!.toLowerCase() as (typeof WEEKDAYS)[number]),
  };
}

/**
 * The UTC instant of a local wall-clock hour in a time zone. The offset is read at a first guess
 * and read again there, which settles across a DST change. An hour that does not exist (spring
 * forward) resolves to the instant an hour later; one that occurs twice (fall back) to one of its
 * two occurrences.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, hour);
  // Offsets are not always whole hours (Kolkata +5:30, Kathmandu +5:45), so minutes count too.
  const offsetAt = (instant: number) => {
    const l = localTime(new Date(instant), timeZone);
    return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute) - (instant - (instant % 60_000));
  };
  const first = wall - offsetAt(wall);
  const second = wall - offsetAt(first);
  return new Date(Math.max(first, second));
}

const addLocalDays = (year: number, month: number, day: number, days: number) => {
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
};

/** ISO 8601 week key of a (local) date: a week belongs to the year of its Thursday. */
function isoWeekKey(year: number, month: number, day: number): string {
  const thursday = new Date(Date.UTC(year, month - 1, day));
  thursday.setUTCDate(thursday.getUTCDate() - ((thursday.getUTCDay() + 6) % 7) + 3);
  const dayOfYear = (thursday.getTime() - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / 86_400_000;
  return `${thursday.getUTCFullYear()}-W${String(Math.floor(dayOfYear / 7) + 1).padStart(2, '0')}`;
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const dayLabel = (d: { year: number; month: number; day: number }) => `${d.day} ${MONTH_NAMES[d.month - 1]!.slice(0, 3)}`;

/** The calendar month `YYYY-MM` as a summary period in a time zone. */
export function monthPeriod(key: string, timeZone: string): SummaryPeriod {
  const [year, month] = key.split('-').map(Number) as [number, number];
  const next = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 };
  return {
    key,
    label: `${MONTH_NAMES[month - 1]} ${year}`,
    from: zonedTime(year, month, 1, 0, timeZone).toISOString(),
    to: zonedTime(next.year, next.month, 1, 0, timeZone).toISOString(),
  };
}

/** The period before one: the previous week or month. */
export function previousPeriod(period: SummaryPeriod, timeZone: string): SummaryPeriod {
  if (/^\d{4}-\d{2}$/.test(period.key)) {
    const [year, month] = period.key.split('-').map(Number) as [number, number];
    return monthPeriod(month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`, timeZone);
  }
  const start = localTime(new Date(period.from), timeZone);
  const monday = addLocalDays(start.year, start.month, start.day, -7);
  return weekPeriod(monday, timeZone);
}

function weekPeriod(monday: { year: number; month: number; day: number }, timeZone: string): SummaryPeriod {
  const nextMonday = addLocalDays(monday.year, monday.month, monday.day, 7);
  const sunday = addLocalDays(monday.year, monday.month, monday.day, 6);
  return {
    key: isoWeekKey(monday.year, monday.month, monday.day),
    label: `the week of ${dayLabel(monday)} to ${dayLabel(sunday)} ${sunday.year}`,
    from: zonedTime(monday.year, monday.month, monday.day, 0, timeZone).toISOString(),
    to: zonedTime(nextMonday.year, nextMonday.month, nextMonday.day, 0, timeZone).toISOString(),
  };
}

/**
 * The period a key names, in a time zone: `YYYY-MM` or `YYYY-Www` (an ISO week, whose week 1
 * holds 4 January). Send jobs carry the key only.
 */
export function summaryPeriodOf(key: string, timeZone: string): SummaryPeriod {
  const week = /^(\d{4})-W(\d{2})$/.exec(key);
  if (!week) return monthPeriod(key, timeZone);
  const jan4 = new Date(Date.UTC(Number(week[1]), 0, 4));
  const monday = addLocalDays(jan4.getUTCFullYear(), 1, 4, -((jan4.getUTCDay() + 6) % 7) + (Number(week[2]) - 1) * 7);
  return weekPeriod(monday, timeZone);
}

/**
 * The period whose summary is due at `now`: the last one to have closed before the agency's most
 * recent slot, if that slot has passed. Weekly: the Monday-to-Sunday week before the slot's week.
 * Monthly: the calendar month before the slot's month. Null when the cadence is `never`.
 */
export function dueSummaryPeriod(settings: Pick<Settings, 'timezone' | 'summary'>, now: Date): { slot: string; period: SummaryPeriod } | null {
  const { timezone: tz, summary } = settings;
  if (summary.cadence === 'never') return null;
  const local = localTime(now, tz);
  if (summary.cadence === 'weekly') {
    const target = WEEKDAYS.indexOf(summary.weekday);
    let back = (local.weekday - target + 7) % 7;
    let slotDay = addLocalDays(local.year, local.month, local.day, -back);
    let slot = zonedTime(slotDay.year, slotDay.month, slotDay.day, summary.hour, tz);
    if (slot > now) {
      back += 7;
      slotDay = addLocalDays(local.year, local.month, local.day, -back);
      slot = zonedTime(slotDay.year, slotDay.month, slotDay.day, summary.hour, tz);
    }
    // The Monday of the week before the slot's week.
    const slotWeekday = localTime(slot, tz).weekday;
    const monday = addLocalDays(slotDay.year, slotDay.month, slotDay.day, -slotWeekday - 7);
    return { slot: slot.toISOString(), period: weekPeriod(monday, tz) };
  }
  let { year, month } = local;
  let slot = zonedTime(year, month, summary.dayOfMonth, summary.hour, tz);
  if (slot > now) {
    ({ year, month } = month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 });
    slot = zonedTime(year, month, summary.dayOfMonth, summary.hour, tz);
  }
  const previous = month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
  return { slot: slot.toISOString(), period: monthPeriod(previous, tz) };
}

/**
 * The agency's first slot after `now` (null when the cadence is `never`): when a summary of the
 * next period is due, so the hourly run need not look at the agency before then. Built as
 * `dueSummaryPeriod` builds its slot, so at this instant `dueSummaryPeriod` returns this very slot.
 */
export function nextSummarySlot(settings: Pick<Settings, 'timezone' | 'summary'>, now: Date): Date | null {
  const { timezone: tz, summary } = settings;
  if (summary.cadence === 'never') return null;
  const local = localTime(now, tz);
  if (summary.cadence === 'weekly') {
    for (let ahead = (WEEKDAYS.indexOf(summary.weekday) - local.weekday + 7) % 7; ; ahead += 7) {
      const day = addLocalDays(local.year, local.month, local.day, ahead);
      const slot = zonedTime(day.year, day.month, day.day, summary.hour, tz);
      if (slot > now) return slot;
    }
  }
  for (let { year, month } = local; ; ({ year, month } = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 })) {
    const slot = zonedTime(year, month, summary.dayOfMonth, summary.hour, tz);
    if (slot > now) return slot;
  }
}
