import { KEY_ATTRIBUTES } from './keys';

/** Drops the table's key attributes so an item can be returned as a domain object. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const k of KEY_ATTRIBUTES) delete copy[k];
  return copy as T;
}
