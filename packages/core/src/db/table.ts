import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from './table-definition';

export { tableDefinition, type IndexName } from './table-definition';

const keySchema = (hash: string, range: string): KeySchemaElement[] => [
  { AttributeName: hash, KeyType: 'HASH' },
  { AttributeName: range, KeyType: 'RANGE' },
];

const gsiDefinitions = (): GlobalSecondaryIndex[] =>
  Object.entries(tableDefinition.globalIndexes).map(([IndexName, k]) => ({
    IndexName,
    KeySchema: keySchema(k.partitionKey, k.sortKey),
    Projection: { ProjectionType: 'ALL' },
  }));

const attributeDefinitions = (): AttributeDefinition[] => {
  const names = [
    tableDefinition.partitionKey,
    tableDefinition.sortKey,
    ...Object.values(tableDefinition.globalIndexes).flatMap((k) => [k.partitionKey, k.sortKey]),
  ];
  return names.map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
};

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Table ${tableName} did not become active`);
}

/**
 * Creates the table, or brings an existing one up to the definition (missing indexes, TTL; with
 * `stream`, the keys-only stream AWS has, for the local runner's webhook fan-out).
 * Safe to run at every start: it changes nothing on an up-to-date table.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, { stream = false } = {}): Promise<'created' | 'migrated' | 'unchanged'> {
  const streamSpecification = { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } as const;
  let existing;
  try {
    existing = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }

  let outcome: 'created' | 'migrated' | 'unchanged' = 'unchanged';
  if (!existing) {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keySchema(tableDefinition.partitionKey, tableDefinition.sortKey),
        AttributeDefinitions: attributeDefinitions(),
        GlobalSecondaryIndexes: gsiDefinitions(),
        ...(stream ? { StreamSpecification: streamSpecification } : {}),
      }),
    );
    outcome = 'created';
  } else {
    const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    // DynamoDB allows one index creation per UpdateTable call.
    for (const gsi of gsiDefinitions().filter((g) => !present.has(g.IndexName))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributeDefinitions(),
          GlobalSecondaryIndexUpdates: [{ Create: gsi }],
        }),
      );
      await waitUntilActive(client, tableName);
      outcome = 'migrated';
    }
    if (stream && !existing.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: streamSpecification }));
      outcome = 'migrated';
    }
  }
  await waitUntilActive(client, tableName);

  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
      }),
    );
    if (outcome === 'unchanged') outcome = 'migrated';
  }
  return outcome;
}
