/** ISO 8601 UTC with millisecond precision, the one time format stored and returned. */
export const iso = (date: Date): string => date.toISOString();

/** Epoch seconds, the unit DynamoDB's TTL expects. */
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
