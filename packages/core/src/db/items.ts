import { KEY_ATTRIBUTES } from './keys';

/** Drops the table's key attributes so an item can be returned as a domain object. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const k of KEY_ATTRIBUTES) delete copy[k];
  return copy as T;
}

/**
 * `SET` clauses (`#x0 = :x0`, …), names and values for every attribute given, with every name
 * aliased: DynamoDB reserves hundreds of words (`name`, `timezone`, `status`…), so no attribute
 * name is written into an expression as is. For an expression with more in it.
 */
export function setClauses(set: Record<string, unknown>) {
  const names = Object.keys(set);
  return {
    clauses: names.map((_, i) => `#x${i} = :x${i}`),
    names: Object.fromEntries(names.map((n, i) => [`#x${i}`, n])),
    values: Object.fromEntries(names.map((n, i) => [`:x${i}`, set[n]])),
  };
}

/** An update's `SET` of every attribute given, and nothing else (`setClauses`). */
export function setAttributes(values: Record<string, unknown>) {
  const { clauses, names, values: bound } = setClauses(values);
  return { UpdateExpression: `SET ${clauses.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: bound };
}
