import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { early, inSlot, mayEmail, type SendJob } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { decodeJob, SLOT_ATTRIBUTE, type DeferredJob } from '../adapters/send-job-message';
import { errorFields, logger } from '../logger';
import { lambdaDelivery } from './delivery';
import { lambdaPacer, lambdaQueue, MAX_DELAY_MS } from './runtime';

/**
 * The send worker on AWS, fed by the send queue in batches (`infra/sender.ts`). Each record is one
 * job; the worker makes a job found twice send once. It never waits for a sending slot. The
 * account's slots are kept in the table for every sender (`lambdaPacer`): the records of a batch
 * that need one (emails not holding one yet) reserve a block of them in one write; a record runs
 * now if its slot is due, or if it holds one promised earlier; the others go back to SQS, each
 * with its slot and delayed until it (a new message: its receive count starts again, and nothing
 * was claimed). The records that run, run at once. A record that made no SES call (sent already,
 * claimed elsewhere) loses its slot. A record that fails (a body that is not a job, an unexpected
 * error, no slot reserved because the table did not answer) is reported in `batchItemFailures`:
 * SQS retries only that one, and after the queue's receive limit (`SENDER_MAX_RECEIVES`) moves it
 * to the dead-letter queue; its invitation is not lost, its lease runs out and the recovery sweep
 * queues it again. A job whose email SES refused for good is not a failure here: the worker has
 * marked the invitation `failed` itself.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const deps = lambdaDelivery();
  const pacer = lambdaPacer();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const fail = (record: SQSRecord) => batchItemFailures.push({ itemIdentifier: record.messageId });
  type Job = { record: SQSRecord; job: SendJob };
  const due: Job[] = [];
  const unslotted: Job[] = [];
  const deferred: (DeferredJob & { record: SQSRecord })[] = [];
  const now = Date.now();
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
    const promised = Number(record.messageAttributes?.[SLOT_ATTRIBUTE]?.stringValue) || undefined;
    // A job back before its time (`notBefore`) only goes back to the queue: it needs no slot yet.
    if (promised === undefined) (mayEmail(job) && !early(job, new Date(now)) ? unslotted : due).push({ record, job });
    else if (promised <= now + EARLY_MS) due.push({ record, job });
    else deferred.push({ record, job, delaySeconds: (promised - now) / 1000, slotAt: promised });
  }
  if (unslotted.length > 0) {
    try {
      const slots = await pacer.reserve(unslotted.length);
      const t = Date.now();
      for (const [i, { record, job }] of unslotted.entries()) {
        const slotAt = slots[i];
        if (slotAt !== undefined && slotAt <= t) due.push({ record, job });
        // Beyond SQS's longest delay no slot is held: it comes back then and reserves one.
        else deferred.push({ record, job, ...(slotAt === undefined ? { delaySeconds: MAX_DELAY_MS / 1000 } : { delaySeconds: (slotAt - t) / 1000, slotAt }) });
      }
    } catch (error) {
      // Not sent: SQS delivers them again once their visibility runs out.
      logger.error('could not reserve sending slots', { records: unslotted.length, ...errorFields(error) });
      unslotted.forEach(({ record }) => fail(record));
    }
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

/** A record back from SQS runs if its slot is this close: SQS counts delays in whole seconds. */
const EARLY_MS = 1_000;

/** Receives of a message before SQS moves it to the dead-letter queue (the queue's redrive policy). */
const maxReceives = () => Math.max(1, Number(process.env.SENDER_MAX_RECEIVES) || 3);
