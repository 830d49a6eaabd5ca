import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue } from '@rapport/core';
import { encodeJob, SLOT_ATTRIBUTE, type DeferredJob } from './send-job-message';

/** SQS takes at most ten messages per SendMessageBatch. */
const BATCH = 10;

export interface SqsQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** Rounds of retries for entries SQS refused in a batch (it answers per entry). */
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SqsQueue extends JobQueue {
  /** Sends each job again with its own delay and slot: a new message, so its receive count starts again. */
  defer(jobs: readonly DeferredJob[]): Promise<void>;
}

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
