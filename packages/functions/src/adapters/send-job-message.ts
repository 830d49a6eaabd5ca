import type { SendJob } from '@rapport/core';
import { maxChars, minChars } from '@rapport/core/shared/schemas';
import * as v from 'valibot';

/*
 * A send job as an SQS message, apart from the SQS client (./sqs-queue.ts): the sender decodes
 * every message it receives, but imports the client only when it queues something.
 */

/** A job handed back to the queue until its sending slot (reserved in the table, `SharedPacer`): `slotAt` travels as a message attribute. */
export interface DeferredJob {
  job: SendJob;
  delaySeconds: number;
  /** The slot (epoch ms) the job holds; none when it was too far ahead to hold one. */
  slotAt?: number;
}

/** The slot a message holds, from its `slotAt` attribute as Lambda delivers it. */
export const SLOT_ATTRIBUTE = 'slotAt';

const id = v.pipe(v.string(), minChars(1), maxChars(64));
/** A summary period's key: `YYYY-MM` or `YYYY-Www`. */
const period = v.pipe(v.string(), v.regex(/^\d{4}-(0[1-9]|1[0-2]|W(0[1-9]|[1-4]\d|5[0-3]))$/));
const retries = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)));
/** Every job may carry `notBefore` (`enqueueAt`). */
const when = { notBefore: v.optional(v.pipe(v.string(), v.isoTimestamp())) };
const SendJobSchema = v.variant('kind', [
  v.strictObject({ ...when, kind: v.literal('invitation'), roundId: id, invitationId: id }),
  v.strictObject({ ...when, kind: v.literal('reminder'), roundId: id, invitationId: id, dueAt: v.pipe(v.string(), v.isoTimestamp()) }),
  v.strictObject({ ...when, kind: v.literal('early-warning'), roundId: id, invitationId: id, retries }),
  v.strictObject({ ...when, kind: v.literal('close-round'), roundId: id }),
  v.strictObject({
    ...when,
    kind: v.literal('summaries'),
    agencyId: id,
    period,
    page: v.optional(v.strictObject({ listing: v.pipe(v.string(), v.isoTimestamp()), cursor: v.pipe(v.string(), maxChars(1024)) })),
  }),
  v.strictObject({ ...when, kind: v.literal('summary'), agencyId: id, proId: id, period, retries }),
  v.strictObject({ ...when, kind: v.literal('agency-summary'), agencyId: id, period, admin: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))), retries }),
  v.strictObject({ ...when, kind: v.literal('webhook'), webhookId: id, deliveryId: id }),
  v.strictObject({
    ...when,
    kind: v.literal('sign-in'),
    login: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
    next: v.optional(v.pipe(v.string(), maxChars(512))),
    invite: v.optional(v.strictObject({ agencyId: id, by: id })),
    retries,
  }),
  v.strictObject({ ...when, kind: v.literal('sign-up'), request: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/)), retries }),
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
