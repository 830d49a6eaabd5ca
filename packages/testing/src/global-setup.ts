/**
 * vitest globalSetup: one DynamoDB Local (in memory) and one SES server per test run, on ports the
 * OS picks, plus the table. Tests reach them through `inject` (see ./index.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '@rapport/core';
import { freePorts, startDynamoDbLocal, startSesLocal, type DynamoDbLocal, type SesLocal } from '@rapport/local';
import type { TestProject } from 'vitest/node';
import { TEST_TABLE_NAME } from './context';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let dynamo: DynamoDbLocal | undefined;
  let ses: SesLocal | undefined;
  const teardown = async () => {
    await Promise.allSettled([ses?.stop(), dynamo?.stop()]);
  };
  try {
    const [dynamoPort, sesPort] = await freePorts(2);
    [dynamo, ses] = await Promise.all([
      // Minutes of every test file's requests: the optimising JIT pays for its slower start.
      startDynamoDbLocal({ port: dynamoPort!, fullJit: true }),
      startSesLocal({ port: sesPort! }),
    ]);
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await ensureTable(client, TEST_TABLE_NAME);
    } finally {
      client.destroy();
    }
  } catch (error) {
    await teardown();
    throw error;
  }
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sesEndpoint', ses.endpoint);
  project.provide('tableName', TEST_TABLE_NAME);
  return teardown;
}
