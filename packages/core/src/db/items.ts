import { KEY_ATTRIBUTES } from './keys';

/** Drops the table's key attributes so an item can be returned as a domain object. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const k of KEY_ATTRIBUTES) delete copy[k];
  return copy as T;
}

/**
 * A `SET` update for every attribute given, with every name aliased: DynamoDB reserves hundreds of
 * words (`name`, `timezone`, `status`…), so no attribute name is written into an expression as is.
 */
export function setAttributes(values: Record<string, unknown>) {
  const names = Object.keys(values);
  return {
    UpdateExpression: `SET ${names.map((n, i) => `#s${i} = :s${i}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#s${i}`, n])),
    ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:s${i}`, values[n]])),
  };
}
