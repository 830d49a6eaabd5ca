import { tableDefinition as t } from '../packages/core/src/db/table-definition';

/**
 * The one DynamoDB table, built from the same definition the local runner and the tests use.
 * Who uses it: the API, the sender and the jobs (linked to them in later infra files).
 */
const indexFields = Object.values(t.globalIndexes).flatMap((i) => [i.partitionKey, i.sortKey]);

export const table = new sst.aws.Dynamo('Table', {
  fields: Object.fromEntries([t.partitionKey, t.sortKey, ...indexFields].map((f) => [f, 'string' as const])),
  primaryIndex: { hashKey: t.partitionKey, rangeKey: t.sortKey },
  globalIndexes: Object.fromEntries(
    Object.entries(t.globalIndexes).map(([name, i]) => [name, { hashKey: i.partitionKey, rangeKey: i.sortKey }]),
  ),
  ttl: t.ttlAttribute,
});
