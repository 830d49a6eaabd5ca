import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue, SendJob } from '@rapport/core';
import { maxChars, minChars } from '@rapport/core/shared/schemas';
import * as v from 'valibot';

/** SQS takes at most ten messages per SendMessageBatch. */
const BATCH = 10;

export interface SqsQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** Rounds of retries for entries SQS refused in a batch (it answers per entry). */
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A job handed back to the queue until its sending slot (reserved in the table, `SharedPacer`): `slotAt` travels as a message attribute. */
export interface DeferredJob {
  job: SendJob;
  delaySeconds: number;
  /** The slot (epoch ms) the job holds; none when it was too far ahead to hold one. */
  slotAt?: number;
}

export interface SqsQueue extends JobQueue {
  /** Sends each job again with its own delay and slot: a new message, so its receive count starts again. */
  defer(jobs: readonly DeferredJob[]): Promise<void>;
}

/** The slot a message holds, from its `slotAt` attribute as Lambda delivers it. */
export const SLOT_ATTRIBUTE = 'slotAt';

/** SQS holds a message back at most 15 minutes. */
const seconds = (delaySeconds: number) => Math.min(900, Math.max(0, Math.ceil(delaySeconds)));

/**
 * The AWS adapter of the `JobQueue` port: each job is one SQS message whose body is the job as
 * JSON (ids and address hashes only, never an address). The sender Lambda reads them in batches; a message that
 * keeps failing ends in the dead-letter queue. Entries SQS refuses in a batch (throttling, a
 * service fault) are sent again, with backoff; if some are still refused after the last attempt,
 * `enqueue` throws naming how many, and the scheduled job finds those invitations again later.
 */
export function createSqsQueue({ client, queueUrl, attempts = 3, sleep = delay }: SqsQueueOptions): SqsQueue {
  const send = async (messages: readonly Omit<SendMessageBatchRequestEntry, 'Id'>[]) => {
    for (let start = 0; start < messages.length; start += BATCH) {
      let entries = messages.slice(start, start + BATCH).map((message, i) => ({ Id: String(i), ...message }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const { Failed = [] } = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        const failed = new Set(Failed.map((f) => f.Id));
        const senderFault = Failed.find((f) => f.SenderFault);
        if (senderFault) throw new Error(`SQS refused a send job: ${senderFault.Code} ${senderFault.Message ?? ''}`.trim());
        entries = entries.filter((e) => failed.has(e.Id));
        if (entries.length > 0 && attempt >= attempts) throw new Error(`SQS refused ${entries.length} send job(s) after ${attempts} attempts`);
        if (entries.length > 0) await sleep(100 * 2 ** (attempt - 1));
      }
    }
  };
  return {
    enqueue(jobs, { delaySeconds = 0 } = {}) {
      const delay = seconds(Math.round(delaySeconds));
      return send(jobs.map((job) => ({ MessageBody: encodeJob(job), ...(delay ? { DelaySeconds: delay } : {}) })));
    },
    defer(jobs) {
      return send(
        jobs.map(({ job, delaySeconds, slotAt }) => ({
          MessageBody: encodeJob(job),
          DelaySeconds: seconds(delaySeconds),
          ...(slotAt !== undefined ? { MessageAttributes: { [SLOT_ATTRIBUTE]: { DataType: 'Number', StringValue: String(Math.round(slotAt)) } } } : {}),
        })),
      );
    },
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const id = v.pipe(v.string(), minChars(1), maxChars(64));
/** A summary period's key: `YYYY-MM` or `YYYY-Www`. */
const period = v.pipe(v.string(), v.regex(/^\d{4}-(0[1-9]|1[0-2]|W(0[1-9]|[1-4]\d|5[0-3]))$/));
const retries = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)));
const SendJobSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('invitation'), roundId: id, invitationId: id }),
  v.strictObject({ kind: v.literal('reminder'), roundId: id, invitationId: id, dueAt: v.pipe(v.string(), v.isoTimestamp()) }),
  v.strictObject({ kind: v.literal('early-warning'), roundId: id, invitationId: id, retries }),
  v.strictObject({ kind: v.literal('close-round'), roundId: id }),
  v.strictObject({
    kind: v.literal('summaries'),
    agencyId: id,
    period,
    page: v.optional(v.strictObject({ listing: v.pipe(v.string(), v.isoTimestamp()), cursor: v.pipe(v.string(), maxChars(1024)) })),
  }),
  v.strictObject({ kind: v.literal('summary'), agencyId: id, proId: id, period, retries }),
  v.strictObject({ kind: v.literal('agency-summary'), agencyId: id, period, admin: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))), retries }),
  v.strictObject({ kind: v.literal('webhook'), webhookId: id, deliveryId: id }),
  v.strictObject({
    kind: v.literal('sign-in'),
    login: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
    next: v.optional(v.pipe(v.string(), maxChars(512))),
    invite: v.optional(v.strictObject({ agencyId: id, by: id })),
    retries,
  }),
  v.strictObject({ kind: v.literal('sign-up'), request: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/)), retries }),
]) satisfies v.GenericSchema<unknown, SendJob>;

/** A send job as an SQS message body. */
export const encodeJob = (job: SendJob): string => JSON.stringify(job);

/**
 * The send job in an SQS message body, or null when the body is not one (a poison message: it is
 * never delivered and ends in the dead-letter queue).
 */
export function decodeJob(body: string): SendJob | null {
  try {
    const result = v.safeParse(SendJobSchema, JSON.parse(body));
    return result.success ? result.output : null;
  } catch {
    return null;
  }
}
