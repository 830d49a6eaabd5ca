import { keys } from '../db/keys';
import { iso } from '../shared/time';

/**
 * How long a claimed send may take before the recovery sweep settles it, and how long a queued
 * invitation may wait in the queue (doubling with each re-queue, see `queueLeaseMs`) before it counts as lost.
 */
export const LEASE_MS = 15 * 60_000;

/** The lease of an invitation queued for the `requeues`-th time: 15 minutes, doubling, at most a day. */
export const queueLeaseMs = (requeues: number) => Math.min(24 * 60 * 60_000, LEASE_MS * 2 ** Math.min(requeues, 7));

/** The attributes that hold an invitation in the lease index until `until`. */
export const leaseIndex = (ref: { roundId: string; invitationId: string }, until: Date) => keys.sendLease(ref.roundId, ref.invitationId, iso(until));

/** What leaves the reminder or lease index (an invitation is in at most one of them). */
export const LEAVE_INDEX = ['GSI1PK', 'GSI1SK'] as const;
