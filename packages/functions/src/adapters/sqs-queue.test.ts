import { SQSClient } from '@aws-sdk/client-sqs';
import type { SendJob } from '@rapport/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSqs, type FakeSqs } from '../handlers/test-support';
import { decodeJob, encodeJob } from './send-job-message';
import { createSqsQueue } from './sqs-queue';

let sqs: FakeSqs;
let client: SQSClient;
beforeAll(async () => {
  sqs = await startFakeSqs();
  client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  client.destroy();
  await sqs.close();
});

const jobs = (n: number, prefix: string): SendJob[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'invitation', roundId: `rnd_${prefix}`, invitationId: `inv_${i}` }));

describe('the SQS queue adapter (through the real SDK client, against a loopback SQS endpoint)', () => {
  it('sends jobs in batches of ten, one message per job, bodies holding ids only', async () => {
    const queue = createSqsQueue({ client, queueUrl: sqs.queueUrl });
    const before = sqs.requests;
    await queue.enqueue(jobs(23, 'batches'));
    expect(sqs.requests - before).toBe(3);
    const sent = sqs.bodies.filter((b) => b.includes('rnd_batches')).map((b) => decodeJob(b));
    expect(sent).toEqual(jobs(23, 'batches'));
  });

  it('sends again what SQS refused in a batch, with backoff, and each job once', async () => {
    const delays: number[] = [];
    const queue = createSqsQueue({ client, queueUrl: sqs.queueUrl, sleep: async (ms) => void delays.push(ms) });
    const batch = jobs(4, 'refused');
    sqs.refuseOnce.add(encodeJob(batch[1]!)).add(encodeJob(batch[3]!));
    await queue.enqueue(batch);
    expect(delays).toEqual([100]);
    expect(sqs.bodies.filter((b) => b.includes('rnd_refused')).map((b) => (decodeJob(b) as { invitationId: string }).invitationId).sort()).toEqual(['inv_0', 'inv_1', 'inv_2', 'inv_3']);
  });

  it('gives up after the last attempt, saying how many jobs were refused', async () => {
    const queue = createSqsQueue({ client, queueUrl: sqs.queueUrl, attempts: 1 });
    const [job] = jobs(1, 'gives-up');
    sqs.refuseOnce.add(encodeJob(job!));
    await expect(queue.enqueue([job!])).rejects.toThrow('SQS refused 1 send job(s) after 1 attempts');
  });
});
