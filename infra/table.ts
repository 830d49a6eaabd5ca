import { tableDefinition as t } from '../packages/core/src/db/table-definition';

/**
 * The one DynamoDB table (on-demand), built from the same definition the local runner and the
 * tests use: its keys, every global secondary index and the TTL attribute (idempotency records
 * expire by it). Who uses it: the API, the sender, the jobs and the SES-event handler, each
 * linked to it (read/write on this table and its indexes only).
 */
const indexFields = Object.values(t.globalIndexes).flatMap((i) => [i.partitionKey, i.sortKey]);

export const table = new sst.aws.Dynamo('Table', {
  fields: Object.fromEntries([t.partitionKey, t.sortKey, ...indexFields].map((f) => [f, 'string' as const])),
  primaryIndex: { hashKey: t.partitionKey, rangeKey: t.sortKey },
  globalIndexes: Object.fromEntries(
    Object.entries(t.globalIndexes).map(([name, i]) => [name, { hashKey: i.partitionKey, rangeKey: i.sortKey }]),
  ),
  ttl: t.ttlAttribute,
  // Keys only: the jobs function fans out new webhook events from it (infra/jobs.ts).
  stream: t.stream,
  transform: {
    // Production data can be restored to any second of the last 35 days.
    table: (args) => {
      args.pointInTimeRecovery = { enabled: $app.stage === 'production' };
    },
  },
});
