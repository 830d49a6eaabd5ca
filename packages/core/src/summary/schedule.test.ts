import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../agency/settings';
import { dueSummaryPeriod, monthPeriod, nextSummarySlot, previousPeriod, summaryPeriodOf, zonedTime } from './schedule';

const weekly = (timezone: string) => defaultSettings(timezone);

/** Steps through the hours from `start` for `days`, and notes the UTC hour at which each new period becomes due. */
function slotsBetween(settings: ReturnType<typeof defaultSettings>, start: string, days: number) {
  const seen: { key: string; at: string }[] = [];
  for (let t = Date.parse(start); t < Date.parse(start) + days * 86_400_000; t += 3_600_000) {
    const due = dueSummaryPeriod(settings, new Date(t));
    if (due && !seen.some((s) => s.key === due.period.key)) seen.push({ key: due.period.key, at: new Date(t).toISOString() });
  }
  return seen.slice(1); // the first is whatever was due when the walk began
}

describe('when summaries are due', () => {
  it('names as the next slot the first instant after now at which a new slot has passed, across DST changes (the hourly run looks again then)', () => {
    const settings = [
      weekly('Pacific/Auckland'),
      // 02:00 on Sunday does not exist on 10 March 2030 in Los Angeles, and occurs twice on 3 November.
      { ...weekly('America/Los_Angeles'), summary: { ...weekly('UTC').summary, weekday: 'sunday' as const, hour: 2 } },
      { ...weekly('Asia/Kathmandu'), summary: { ...weekly('UTC').summary, cadence: 'monthly' as const, dayOfMonth: 28, hour: 23 } },
    ];
    for (const s of settings) {
      // Every 7 hours and 13 minutes for a year, so every weekday, hour and DST change is crossed.
      for (let t = Date.parse('2030-01-01T00:00:00Z'); t < Date.parse('2031-01-01T00:00:00Z'); t += 7 * 3_600_000 + 13 * 60_000) {
        const now = new Date(t);
        const next = nextSummarySlot(s, now)!;
        expect(next > now).toBe(true);
        expect(dueSummaryPeriod(s, next)!.slot).toBe(next.toISOString());
        // No slot in between: just before it, the latest slot is the one already due at `now`.
        expect(dueSummaryPeriod(s, new Date(next.getTime() - 1))!.slot).toBe(dueSummaryPeriod(s, now)!.slot);
      }
    }
    expect(nextSummarySlot({ ...weekly('UTC'), summary: { ...weekly('UTC').summary, cadence: 'never' } }, new Date())).toBeNull();
  });

  it('converts local wall-clock hours to UTC across DST changes', () => {
    // Auckland: NZDT (UTC+13) until 2030-04-07 03:00, then NZST (UTC+12).
    expect(zonedTime(2030, 4, 1, 9, 'Pacific/Auckland').toISOString()).toBe('2030-03-31T20:00:00.000Z');
    expect(zonedTime(2030, 4, 8, 9, 'Pacific/Auckland').toISOString()).toBe('2030-04-07T21:00:00.000Z');
    // Los Angeles: PST (UTC−8) until 2030-03-10 02:00, then PDT (UTC−7).
    expect(zonedTime(2030, 3, 4, 9, 'America/Los_Angeles').toISOString()).toBe('2030-03-04T17:00:00.000Z');
    expect(zonedTime(2030, 3, 11, 9, 'America/Los_Angeles').toISOString()).toBe('2030-03-11T16:00:00.000Z');
    // Offsets of half and three quarters of an hour.
    expect(zonedTime(2030, 3, 1, 0, 'Asia/Kolkata').toISOString()).toBe('2030-02-28T18:30:00.000Z');
    expect(zonedTime(2030, 3, 4, 9, 'Asia/Kathmandu').toISOString()).toBe('2030-03-04T03:15:00.000Z');
    expect(zonedTime(2030, 7, 1, 9, 'America/St_Johns').toISOString()).toBe('2030-07-01T11:30:00.000Z');
    // 02:30 does not exist on 2030-03-10 in Los Angeles: the next real instant, 03:30 PDT.
    expect(zonedTime(2030, 3, 10, 2, 'America/Los_Angeles').toISOString()).toBe('2030-03-10T10:00:00.000Z');
  });

  it('sends Auckland its Monday 09:00 summaries at 20:00 UTC in summer and 21:00 UTC after the DST change', () => {
    expect(slotsBetween(weekly('Pacific/Auckland'), '2030-03-25T00:00:00Z', 21)).toEqual([
      { key: '2030-W13', at: '2030-03-31T20:00:00.000Z' },
      { key: '2030-W14', at: '2030-04-07T21:00:00.000Z' },
      { key: '2030-W15', at: '2030-04-14T21:00:00.000Z' },
    ]);
  });

  it('sends Los Angeles its Monday 09:00 summaries at 17:00 UTC before the DST change and 16:00 UTC after', () => {
    expect(slotsBetween(weekly('America/Los_Angeles'), '2030-03-01T00:00:00Z', 14)).toEqual([
      { key: '2030-W09', at: '2030-03-04T17:00:00.000Z' },
      { key: '2030-W10', at: '2030-03-11T16:00:00.000Z' },
    ]);
  });

  it('reports on the Monday-to-Sunday week before the slot, in local time', () => {
    const due = dueSummaryPeriod(weekly('Pacific/Auckland'), new Date('2030-04-07T21:00:00Z'))!;
    expect(due.slot).toBe('2030-04-07T21:00:00.000Z');
    // Monday 1 April 00:00 NZDT to Monday 8 April 00:00 NZST.
    expect(due.period).toEqual({ key: '2030-W14', label: 'the week of 1 Apr to 7 Apr 2030', from: '2030-03-31T11:00:00.000Z', to: '2030-04-07T12:00:00.000Z' });
    expect(previousPeriod(due.period, 'Pacific/Auckland')).toMatchObject({ key: '2030-W13', from: '2030-03-24T11:00:00.000Z', to: '2030-03-31T11:00:00.000Z' });
  });

  it('handles monthly cadence, a week across the new year, and never', () => {
    const monthly = { ...weekly('Europe/Madrid'), summary: { cadence: 'monthly' as const, weekday: 'monday' as const, dayOfMonth: 1, hour: 9, adminEmails: [] } };
    expect(dueSummaryPeriod(monthly, new Date('2030-03-01T07:59:00Z'))!.period.key).toBe('2030-01');
    expect(dueSummaryPeriod(monthly, new Date('2030-03-01T08:00:00Z'))).toEqual({
      slot: '2030-03-01T08:00:00.000Z',
      period: { key: '2030-02', label: 'February 2030', from: '2030-01-31T23:00:00.000Z', to: '2030-02-28T23:00:00.000Z' },
    });
    expect(monthPeriod('2030-01', 'UTC')).toMatchObject({ from: '2030-01-01T00:00:00.000Z', to: '2030-02-01T00:00:00.000Z' });
    expect(previousPeriod(monthPeriod('2030-01', 'UTC'), 'UTC').key).toBe('2029-12');
    // Monday 2030-12-30 belongs to ISO week 2031-W01.
    expect(dueSummaryPeriod(weekly('UTC'), new Date('2031-01-06T09:00:00Z'))!.period).toMatchObject({ key: '2031-W01', from: '2030-12-30T00:00:00.000Z' });
    expect(dueSummaryPeriod({ ...weekly('UTC'), summary: { ...weekly('UTC').summary, cadence: 'never' } }, new Date())).toBeNull();
  });

  it('finds a period again from its key, as send jobs carry it', () => {
    for (const [tz, at] of [['Pacific/Auckland', '2030-04-07T21:00:00Z'], ['UTC', '2031-01-06T09:00:00Z'], ['America/Los_Angeles', '2027-01-04T17:00:00Z'], ['UTC', '2026-12-28T09:00:00Z']] as const) {
      const { period } = dueSummaryPeriod(weekly(tz), new Date(at))!;
      expect(summaryPeriodOf(period.key, tz)).toEqual(period);
    }
    expect(summaryPeriodOf('2030-02', 'Europe/Madrid')).toEqual(monthPeriod('2030-02', 'Europe/Madrid'));
  });
});
