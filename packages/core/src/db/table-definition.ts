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
    /** Overloaded secondary access path (a pro's campaigns, due work, an agency's responses by time). */
    GSI1: { partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** A second path for items GSI1 already serves another way (a pro's responses by time). */
    GSI2: { partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
  },
  /**
   * What the table's stream carries on AWS: keys only. The jobs function takes from it the new
   * webhook events (items whose partition key starts with `webhookEventPrefix`) and fans them out.
   */
  stream: 'keys-only',
  webhookEventPrefix: 'EVT#',
} as const;

export type IndexName = keyof typeof tableDefinition.globalIndexes;
