/* Test helpers for the responses tests (not a test file itself). */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { INSTRUMENT_VERSION, isTestimonial, keys, mapConcurrent, type Answers, type Audience, type Db, type SurveyResponse } from '@rapport/core';


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
 * Writes responses straight to the table, as `submitResponse` stores them (the response item with
 * its agency and pro index keys, a testimonial copy when it is one), and the campaign counter's
 * response counts — BatchWrite, 25 items a call, 8 calls in flight. Far faster than a transaction
 * per response, for tests that need thousands.
 */
export async function seedResponses(db: Db, group: SeedGroup, rows: { at: string; answers: Answers }[]): Promise<SurveyResponse[]> {
  const roundId = newId('rnd');
  const responses = rows.map(({ at, answers }, i): SurveyResponse => ({
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
    firstSubmittedAt: at,
    submittedAt: at,
    revision: 1,
  }));
  const items = responses.flatMap((r) => [
    {
      ...keys.response(r.roundId, r.invitationId),
      ...keys.responseByAgency(r.agencyId, r.firstSubmittedAt, r.invitationId),
      ...keys.responseByPro(r.agencyId, r.proId, r.firstSubmittedAt, r.invitationId),
      type: 'response',
      ...r,
    },
    ...(isTestimonial(r.answers) ? [{ ...keys.testimonial(r.agencyId, r.firstSubmittedAt, r.invitationId), type: 'testimonial', ...r }] : []),
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
  const { PK, SK } = keys.campaignCounter(group.agencyId, group.campaignId, group.audience);
  await db.doc.send(
    new BatchWriteCommand({
      RequestItems: {
        [db.table]: [
          {
            PutRequest: {
              Item: { PK, SK, type: 'counter', i_responsiveness_n: responses.length, ...(group.attribution === 'anonymous' ? { anonymous: responses.length } : {}) },
            },
          },
        ],
      },
    }),
  );
  return responses;
}
