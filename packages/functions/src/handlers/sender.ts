import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliver, inSlot, type SendJob } from '@rapport/core';
import { decodeJob, SLOT_ATTRIBUTE, type DeferredJob } from '../adapters/sqs-queue';
import { errorFields, logger } from '../logger';
import { lambdaDelivery, lambdaPacer, lambdaQueue } from './runtime';

/**
 * The send worker on AWS, fed by the send queue in batches (`infra/sender.ts`). Each record is one
 * job; the worker makes a job found twice send once. It never waits for a sending slot: a record
 * runs only if this Lambda's pacer (its share, `SEND_RATE_PER_SECOND / SENDER_CONCURRENCY`) has a
 * slot due now, or if it holds one promised earlier; the others go back to SQS, each promised the
 * next slot and delayed until it (a new message: its receive count starts again, and nothing was
 * claimed). The records that run, run at once. A record that made no SES call (sent already,
 * claimed elsewhere, not an email) gives its slot back. A record that fails (a body that is not a
 * job, an unexpected error) is reported in `batchItemFailures`: SQS retries only that one, and after
 * the queue's receive limit (`SENDER_MAX_RECEIVES`) moves it to the dead-letter queue; its
 * invitation is not lost, its lease runs out and the recovery sweep queues it again. A job whose
 * email SES refused for good is not a failure here: the worker has marked the invitation `failed` itself.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const deps = lambdaDelivery();
  const pacer = lambdaPacer();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const fail = (record: SQSRecord) => batchItemFailures.push({ itemIdentifier: record.messageId });
  const due: { record: SQSRecord; job: SendJob }[] = [];
  const deferred: (DeferredJob & { record: SQSRecord })[] = [];
  for (const [i, record] of event.Records.entries()) {
    if (context.getRemainingTimeInMillis() < TIME_PER_RECORD_MS) {
      // Not enough time left for one more email with its retries: hand the rest back to SQS now
      // rather than time out, which would return the whole batch, the sent ones too.
      logger.warn('out of time, returning records to the queue', { returned: event.Records.length - i });
      event.Records.slice(i).forEach(fail);
      break;
    }
    const job = decodeJob(record.body);
    if (!job) {
      logger.error('not a send job', { messageId: record.messageId });
      fail(record);
      continue;
    }
    const now = Date.now();
    const promised = Number(record.messageAttributes?.[SLOT_ATTRIBUTE]?.stringValue) || undefined;
    if (promised !== undefined ? promised <= now + EARLY_MS : pacer.take() === 0) {
      due.push({ record, job });
      continue;
    }
    const slotAt = promised ?? pacer.promise(MAX_DELAY_MS);
    // Beyond SQS's longest delay no slot is held: it comes back then and takes one.
    deferred.push({ record, job, delaySeconds: slotAt === undefined ? MAX_DELAY_MS / 1000 : (slotAt - now) / 1000, ...(slotAt !== undefined ? { slotAt } : {}) });
  }

  const run = async ({ record, job }: { record: SQSRecord; job: SendJob }) => {
    // Jobs carry ids only: all of them go in the log line.
    const fields = { messageId: record.messageId, ...job, receiveCount: Number(record.attributes.ApproximateReceiveCount) };
    try {
      const outcome = await inSlot(pacer, deps.mailer, (mailer) => deliver({ ...deps, mailer }, job));
      logger.info('send job done', { ...fields, outcome });
    } catch (error) {
      // Even after the last receive nothing is marked failed: the invitation's lease runs out and
      // the recovery sweep queues it again (and the message stays in the dead-letter queue to look at).
      logger.error('send job failed', { ...fields, lastReceive: fields.receiveCount >= maxReceives(), ...errorFields(error) });
      fail(record);
    }
  };
  const defer = async () => {
    if (deferred.length === 0) return;
    try {
      await lambdaQueue().defer(deferred);
      logger.info('records deferred to their sending slot', { deferred: deferred.length, lastSlotInSeconds: Math.max(...deferred.map((d) => d.delaySeconds)) });
    } catch (error) {
      // Not sent again: SQS delivers them again once their visibility runs out.
      logger.error('could not defer records', { deferred: deferred.length, ...errorFields(error) });
      deferred.forEach((d) => fail(d.record));
    }
  };
  // At most a batch (`infra/sender.ts`: ten) at once.
  await Promise.all([...due.map(run), defer()]);
  return { batchItemFailures };
}

/** The longest one record can take: SES's three attempts with backoff (1.5 s) and the writes. */
const TIME_PER_RECORD_MS = 15_000;

/** SQS delays a message at most 15 minutes: no slot is promised further ahead. */
const MAX_DELAY_MS = 900_000;

/** A record back from SQS runs if its slot is this close: SQS counts delays in whole seconds. */
const EARLY_MS = 1_000;

/** Receives of a message before SQS moves it to the dead-letter queue (the queue's redrive policy). */
const maxReceives = () => Math.max(1, Number(process.env.SENDER_MAX_RECEIVES) || 3);
