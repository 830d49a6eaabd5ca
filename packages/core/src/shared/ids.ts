import { ulid } from 'ulidx';
import { fingerprint } from './hash';

export type IdPrefix = 'ag' | 'pro' | 'cmp' | 'key' | 'rnd' | 'inv' | 'cmt' | 'mbr' | 'whk' | 'msg' | 'dlv' | 'era';

/** Prefixed, time-ordered ids (`pro_01J…`): readable in logs and sortable by creation. */
export const newId = (prefix: IdPrefix): string => `${prefix}_${ulid()}`;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * An id that follows from `parts` (their SHA-256, in the ids' alphabet and length): the same parts
 * always name the same thing, so a retried creation finds what its first attempt began.
 */
export const hashedId = (prefix: IdPrefix, ...parts: string[]): string => {
  const bits = [...Buffer.from(fingerprint(...parts), 'hex')].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  return `${prefix}_${Array.from({ length: 26 }, (_, i) => CROCKFORD[parseInt(bits.slice(i * 5, i * 5 + 5), 2)]).join('')}`;
};

/** Ids are checked for shape before they reach a key, so a bad id is a 404, never a query error. */
export const isId = (prefix: IdPrefix, value: string): boolean => new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`).test(value);
