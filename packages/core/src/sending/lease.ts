import { iso } from '../shared/time';

/**
 * How long a claimed send may take before its round's check settles it, and how long a queued
 * invitation may wait in the queue (doubling with each re-queue, see `queueLeaseMs`) before it counts as lost.
 */
export const LEASE_MS = 15 * 60_000;

/** The lease of an invitation queued for the `requeues`-th time: 15 minutes, doubling, at most a day. */
export const queueLeaseMs = (requeues: number) => Math.min(24 * 60 * 60_000, LEASE_MS * 2 ** Math.min(requeues, 7));

/**
 * The attribute that holds an invitation's next look by its round's check (`checkRounds`): a
 * lease's end while it is queued or being sent, a reminder's due time. An attribute, not an index
 * key: the claims and records that move it are attribute-only writes of an item in no index.
 */
export const leaseUntil = (until: Date) => ({ checkAt: iso(until) });

/** What ends an invitation's looks: nothing more to send, settle or remind. */
export const END_LOOKS = ['checkAt'] as const;
