/**
 * The keys of the items a batch of the table's stream records inserted (keys-only stream, as
 * DynamoDB and Lambda deliver them): what the webhook fan-out looks at, on AWS and locally alike.
 */
export interface StreamRecordLike {
  eventName?: string | undefined;
  dynamodb?: { Keys?: Record<string, { S?: string | undefined }> | undefined } | undefined;
}

export const insertedKeys = (records: readonly StreamRecordLike[]): { PK: string | undefined; SK: string | undefined }[] =>
  records.flatMap((r) => (r.eventName === 'INSERT' && r.dynamodb?.Keys ? [{ PK: r.dynamodb.Keys.PK?.S, SK: r.dynamodb.Keys.SK?.S }] : []));
