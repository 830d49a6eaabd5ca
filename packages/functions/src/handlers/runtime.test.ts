import { describe, expect, it } from 'vitest';

describe('configuration on Lambda', () => {
  it("reads linked resources through SST's Resource (as SST passes them to a function) before environment variables", async () => {
    // What SST sets on a linked function: one JSON variable per resource, and the app.
    process.env.SST_RESOURCE_App = JSON.stringify({ name: 'rapport', stage: 'production' });
    process.env.SST_RESOURCE_Table = JSON.stringify({ name: 'rapport-production-TableTable-abc', type: 'sst.aws.Dynamo' });
    process.env.SST_RESOURCE_LinkSecret = JSON.stringify({ value: 'linked-secret-linked-secret-0123456789', type: 'sst.sst.Secret' });
    process.env.SST_RESOURCE_SendQueue = JSON.stringify({ url: 'https://sqs.us-east-1.amazonaws.com/123456789012/SendQueue', type: 'sst.aws.Queue' });
    const { lambdaEnv } = await import('./runtime');
    const env = lambdaEnv({ TABLE_NAME: 'ignored', PUBLIC_URL: 'https://surveys.rapport.example' });
    expect(env).toMatchObject({
      TABLE_NAME: 'rapport-production-TableTable-abc',
      LINK_SECRET: 'linked-secret-linked-secret-0123456789',
      SEND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/SendQueue',
      PUBLIC_URL: 'https://surveys.rapport.example',
    });
  });
});
