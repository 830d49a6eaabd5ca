import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { clearSes, sesEmails, TEST_TABLE_NAME, testConfig, testDeps } from './index';

describe('global setup', () => {
  it('provides the engines and a ready table', async () => {
    expect(inject('tableName')).toBe(TEST_TABLE_NAME);
    const config = testConfig();
    expect(config.dynamoEndpoint).toBe(inject('dynamoEndpoint'));
    expect(config.sesEndpoint).toBe(inject('sesEndpoint'));

    const deps = testDeps();
    const { Table } = await deps.db.client.send(new DescribeTableCommand({ TableName: config.table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    deps.db.client.destroy();
  });

  it('reads the SES store', async () => {
    await clearSes();
    expect(await sesEmails({ to: 'nobody@example.com' })).toEqual([]);
  });
});
