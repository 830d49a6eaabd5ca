import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliver } from '@rapport/core';
import { decodeJob } from '../adapters/sqs-queue';
import { errorFields, logger } from '../logger';
import { lambdaConfig, lambdaDelivery } from './runtime';

/**
 * The send worker on AWS, fed by the send queue in batches (`infra/sender.ts`). Each record is one
 * job; the worker makes a job found twice send once. Records are handled one after another, at most
 * `SEND_RATE_PER_SECOND / SENDER_CONCURRENCY` starting per second, so the senders together stay
 * within the account's SES rate. A record that fails (a body that is not a job, an unexpected
 * error) is reported in `batchItemFailures`: SQS retries only that one, and after the queue's
 * receive limit moves it to the dead-letter queue. A job whose email SES refused for good is not a
 * failure here: the worker has marked the invitation `failed`.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const deps = lambdaDelivery();
  const gapMs = 1000 / Math.max(1, lambdaConfig().sendRatePerSecond / concurrency());
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  let nextStart = 0;
  for (const record of event.Records) {
    const wait = nextStart - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    nextStart = Date.now() + gapMs;
    const job = decodeJob(record.body);
    if (!job) {
      logger.error('not a send job', { messageId: record.messageId });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const fields = { messageId: record.messageId, kind: job.kind, roundId: job.roundId, invitationId: job.invitationId, receiveCount: Number(record.attributes.ApproximateReceiveCount) };
    try {
      logger.info('send job done', { ...fields, outcome: await deliver(deps, job) });
    } catch (error) {
      logger.error('send job failed', { ...fields, ...errorFields(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/** Sender Lambdas running at once at most (the event source's maximum concurrency, set by infra). */
const concurrency = () => Math.max(1, Number(process.env.SENDER_CONCURRENCY) || 1);
