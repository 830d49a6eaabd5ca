/* Plain data, free of the AWS SDK, so the SST infra can import it too. */
/**
 * The one table definition, shared by the local runner, the tests and the AWS infra.
 * Access patterns and key shapes are listed in ./keys.ts.
 */
export const tableDefinition = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  globalIndexes: {
    /** Overloaded secondary access path (e.g. a pro's campaigns). */
    GSI1: { partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
  },
} as const;

export type IndexName = keyof typeof tableDefinition.globalIndexes;
