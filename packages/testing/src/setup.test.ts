import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sesEmails, TEST_TABLE_NAME, testConfig, testDeps } from './index';

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

  // Emptying the store would take their emails from the test files running alongside: the test
  // looks for an address of its own instead.
  it('reads the SES store: the email sent to an address, and none for another', async () => {
    const unique = randomUUID();
    const deps = testDeps();
    const { messageId } = await deps.mailer.send({ from: { address: 'setup@rapport.example' }, to: { address: `store-${unique}@example.com` }, subject: `Setup ${unique}`, text: 'Hello', html: '<p>Hello</p>' });
    deps.db.client.destroy();
    const found = await sesEmails({ to: `store-${unique}@example.com` });
    expect(found.map((e) => [e.messageId, e.subject])).toEqual([[messageId, `Setup ${unique}`]]);
    expect(await sesEmails({ to: `nobody-${unique}@example.com` })).toEqual([]);
  });
});
