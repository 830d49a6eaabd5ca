import { createHash, randomBytes } from 'node:crypto';
import type { Delta } from '../scores/counters';
import type { Audience } from '../survey/instrument';
import type { InvitationRef } from '../survey/token';

/**
 * Release batches (DESIGN "Anonymity, by construction"). An anonymous answer counts nowhere until
 * it is released in a batch of at least k answers; every published figure is a sum of whole
 * batches and every published row belongs to one and carries only its attributes. A named answer
 * is released at once, as a batch of one.
 */

/** What a released row carries instead of anything about its respondent or the time they answered. */
export interface Release {
  batchId: string;
  releasedAt: string;
  /** The batch's campaign; null for a pooled batch ("several campaigns"). */
  campaignId: string | null;
  campaignName: string | null;
  /** The month the batch counts in: its round's for a campaign batch, the release month for a pooled one. */
  period: string;
  /** The anonymity threshold the batch was released under (1 for a named answer). */
  k: number;
  /** The row's place in the released lists: `<releasedAt>#<batchId>#<random>`, never the answer order. */
  rowKey: string;
}

export interface ReleaseBatch {
  batchId: string;
  agencyId: string;
  proId: string;
  audience: Audience;
  attribution: 'anonymous' | 'named';
  campaignId: string | null;
  campaignName: string | null;
  period: string;
  releasedAt: string;
  k: number;
  /** Answers in the batch. */
  size: number;
  /** What the batch added to the counters (flat counter attributes; items below k left out). */
  aggregate: Delta;
  /** Where its answers are: one round's answers of the audience, or the pooled answers. */
  source: { roundId: string } | { members: InvitationRef[] };
}

const hashId = (...parts: string[]) => `bat_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 26)}`;

/** Deterministic, so a close run twice finds the batch it already released. */
export const roundBatchId = (roundId: string, audience: Audience) => hashId('round', roundId, audience);
export const poolBatchId = (agencyId: string, proId: string, audience: Audience, seq: number) => hashId('pool', agencyId, proId, audience, String(seq));
export const namedBatchId = (roundId: string, invitationId: string) => hashId('named', roundId, invitationId);

/** Equal-length keys (24 + 1 + 30 + 1 + 16 characters), random within a batch. */
export const newRowKey = (releasedAt: string, batchId: string) => `${releasedAt}#${batchId}#${randomBytes(8).toString('hex')}`;
export const ROW_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#bat_[0-9a-f]{26}#[0-9a-f]{16}$/;
