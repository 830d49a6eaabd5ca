/** ISO 8601 UTC with millisecond precision, the one time format stored and returned. */
export const iso = (date: Date): string => date.toISOString();

/** Epoch seconds, the unit DynamoDB's TTL expects. */
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export const DAY_MS = 86_400_000;

export const addDays = (date: Date | string, days: number): Date => new Date(new Date(date).getTime() + days * DAY_MS);

/** The calendar month (`YYYY-MM`) a moment falls in, in a time zone: scores are grouped by it. */
export function periodOf(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(date);
  return `${parts.find((p) => p.type === 'year')!.value}-${parts.find((p) => p.type === 'month')!.value}`;
}
