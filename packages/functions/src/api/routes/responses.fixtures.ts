/* Test helpers for the responses tests (not a test file itself). */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { INSTRUMENT_VERSION, isTestimonial, keys, mapConcurrent, namedBatchId, newRowKey, roundBatchId, type Answers, type Audience, type Db, type SurveyResponse } from '@rapport/core';


const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** An id of the app's shape (`<prefix>_` + 26 Crockford base-32 characters). */
const newId = (prefix: string) => `${prefix}_${[...randomBytes(26)].map((b) => CROCKFORD[b % 32]).join('')}`;

export interface SeedGroup {
  agencyId: string;
  proId: string;
  campaignId: string;
  campaignName: string;
  audience: Audience;
  attribution: 'anonymous' | 'named';
  period: string;
}

/**
 * Writes responses straight to the table as released rows, the way a released batch leaves them
 * (the response item with its release and its places in the agency's and the pro's released
 * lists, a testimonial copy when it is one): the group is one batch released at `releasedAt`.
 * BatchWrite, 25 items a call, 8 calls in flight: far faster than closing rounds, for tests that
 * need thousands of rows. Counters are not written.
 */
export async function seedResponses(db: Db, group: SeedGroup, rows: { answers: Answers }[], releasedAt: string): Promise<SurveyResponse[]> {
  const roundId = newId('rnd');
  const batchId = group.attribution === 'named' ? namedBatchId(roundId, 'seed') : roundBatchId(roundId, group.audience);
  const responses = rows.map(({ answers }, i): SurveyResponse => ({
    roundId,
    invitationId: newId('inv'),
    agencyId: group.agencyId,
    proId: group.proId,
    campaignId: group.campaignId,
    campaignName: group.campaignName,
    audience: group.audience,
    attribution: group.attribution,
    respondent: group.attribution === 'named' ? { name: `Respondent ${i}`, email: `respondent-${i}@seed.example`, outlet: null } : null,
    period: group.period,
    instrumentVersion: INSTRUMENT_VERSION,
    answers,
    firstSubmittedAt: releasedAt,
    submittedAt: releasedAt,
    revision: 1,
    release: {
      batchId,
      releasedAt,
      campaignId: group.campaignId,
      campaignName: group.campaignName,
      period: group.period,
      k: group.attribution === 'named' ? 1 : rows.length,
      rowKey: newRowKey(releasedAt, batchId),
    },
  }));
  const items = responses.flatMap((r) => [
    {
      ...keys.response(r.roundId, r.invitationId),
      ...keys.releasedByAgency(r.agencyId, r.release!.rowKey),
      ...keys.releasedByPro(r.agencyId, r.proId, r.release!.rowKey),
      type: 'response',
      ...r,
    },
    ...(isTestimonial(r.answers) ? [{ ...keys.testimonial(r.agencyId, r.release!.rowKey), type: 'testimonial', ...r }] : []),
  ]);
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await mapConcurrent(batches, 8, async (batch) => {
    let pending: unknown[] = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt) await new Promise((r) => setTimeout(r, 20 * attempt));
      const result = await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending as never } }));
      pending = result.UnprocessedItems?.[db.table] ?? [];
    }
  });
  return responses;
}
