import { ulid } from 'ulidx';

export type IdPrefix = 'ag' | 'pro' | 'cmp' | 'key' | 'rnd' | 'inv' | 'cmt';

/** Prefixed, time-ordered ids (`pro_01J…`): readable in logs and sortable by creation. */
export const newId = (prefix: IdPrefix): string => `${prefix}_${ulid()}`;

/** Ids are checked for shape before they reach a key, so a bad id is a 404, never a query error. */
export const isId = (prefix: IdPrefix, value: string): boolean => new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`).test(value);
