import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { testDeps } from '@rapport/testing';
import { createAgency } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { keys } from '../db/keys';
import { createRound, type Invitation, type Round } from '../survey/round';
import { isTestimonial, submitResponse, type Answers, type SurveyResponse } from '../survey/response';
import { AUDIENCE_DIMENSIONS, type Audience } from '../survey/instrument';
import { readCounter, responseDelta, type Delta } from './counters';

const { db } = testDeps();

describe('responseDelta', () => {
  it('adds n, Σx, Σx² and the histogram bin of each answered item', () => {
    expect(responseDelta(null, { responsiveness: 4, recommend: 9 }, true)).toEqual({
      anonymous: 1,
      i_responsiveness_n: 1, i_responsiveness_s: 4, i_responsiveness_q: 16, i_responsiveness_h4: 1,
      i_recommend_n: 1, i_recommend_s: 9, i_recommend_q: 81, i_recommend_h9: 1,
    });
  });

  it('on a revision takes the old answer out and puts the new one in, leaving out what nets to zero', () => {
    expect(responseDelta({ responsiveness: 2, listening: 3 }, { responsiveness: 5, listening: 3, recommend: 0 }, false)).toEqual({
      i_responsiveness_s: 3, i_responsiveness_q: 21, i_responsiveness_h2: -1, i_responsiveness_h5: 1,
      i_recommend_n: 1, i_recommend_h0: 1, // Σx and Σx² of a 0 add nothing
    });
    expect(responseDelta({ responsiveness: 3 }, { responsiveness: 3 }, true)).toEqual({});
  });
});

/**
 * The property the scores rest on: after any sequence of submissions and revisions, sequential or
 * concurrent, every counter equals a recomputation from the stored responses, exactly.
 */
describe('counters against DynamoDB Local', () => {
  let agencyId: string;
  let rounds: Round[];
  let invitations: Invitation[];
  const proIds: string[] = [];
  const campaignIds: string[] = [];

  beforeAll(async () => {
    // Auckland: 2030-01-31T20:00Z is already February there, so months follow the agency's zone.
    const start = new Date('2030-01-10T09:00:00.000Z');
    const agency = await createAgency(db, { name: 'Counters', timezone: 'Pacific/Auckland' }, start);
    agencyId = agency.agencyId;
    for (const who of ['ana', 'bo']) proIds.push((await createPro(db, agencyId, { name: who, email: `${who}-${agencyId}@acme.example` }, start)).proId);
    for (const [i, proId] of [proIds[0]!, proIds[0]!, proIds[1]!].entries()) {
      campaignIds.push((await createCampaign(db, agencyId, { proId, name: `Campaign ${i}` }, start)).campaignId);
    }
    const times = ['2030-01-10T09:00:00.000Z', '2030-01-31T20:00:00.000Z', '2030-03-05T09:00:00.000Z'].map((t) => new Date(t));
    rounds = [];
    invitations = [];
    let r = 0;
    for (const campaignId of campaignIds) {
      for (const at of times) {
        const recipients = (['reporter', 'colleague', 'client'] as const).flatMap((audience) =>
          [0, 1].map((i) => ({ email: `${audience}${i}-r${r}-${agencyId.slice(3)}@news.example`, audience })),
        );
        const created = await createRound(db, agencyId, campaignId, { recipients, attribution: r % 2 ? 'named' : 'anonymous' }, at);
        r++;
        rounds.push(created.round);
        invitations.push(...created.accepted);
      }
    }
    expect(new Set(rounds.map((x) => x.period))).toEqual(new Set(['2030-01', '2030-02', '2030-03']));
    expect(invitations.map((i) => i.audience)).toEqual(Array.from({ length: 54 }, (_, i) => audienceOf(i)));
  });

  const answersFor = (audience: Audience) =>
    fc.record(
      {
        responsiveness: fc.integer({ min: 1, max: 5 }),
        recommend: fc.integer({ min: 0, max: 10 }),
        ...Object.fromEntries(AUDIENCE_DIMENSIONS[audience].map((d) => [d, fc.integer({ min: 1, max: 5 })])),
        improve: fc.constantFrom('Call sooner', 'Great work'),
        quoteConsent: fc.boolean(),
      },
      { requiredKeys: ['responsiveness'] },
    );

  // Each step: an invitation and its answers; steps in one batch run concurrently.
  const audienceOf = (i: number): Audience => (['reporter', 'colleague', 'client'] as const)[Math.floor((i % 6) / 2)]!;
  const step = fc.nat({ max: 53 }).chain((i) => fc.record({ i: fc.constant(i), answers: answersFor(audienceOf(i)) }));
  const batches = fc.array(fc.uniqueArray(step, { minLength: 1, maxLength: 4, selector: (s) => s.i }), { minLength: 1, maxLength: 4 });

  async function queryPartition(pk: string) {
    const { Items = [] } = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk } }));
    return Items;
  }

  async function storedResponses(): Promise<SurveyResponse[]> {
    const all = await Promise.all(rounds.map((r) => queryPartition(keys.round(r.roundId).PK)));
    return all.flat().filter((item) => item.type === 'response') as unknown as SurveyResponse[];
  }

  it('equal a recomputation from the raw responses after random submissions and revisions', async () => {
    const at = (round: Round) => new Date(new Date(round.createdAt).getTime() + 3_600_000);
    await fc.assert(
      fc.asyncProperty(batches, async (plan) => {
        for (const batch of plan) {
          await Promise.all(
            batch.map(({ i, answers }) => {
              const invitation = invitations[i]!;
              const round = rounds.find((r) => r.roundId === invitation.roundId)!;
              return submitResponse(db, invitation, answers, at(round));
            }),
          );
        }

        const responses = await storedResponses();
        const expected = new Map<string, Delta>();
        const add = (key: { PK: string; SK: string }, delta: Delta) => {
          const id = `${key.PK}|${key.SK}`;
          const sum = expected.get(id) ?? {};
          for (const [name, v] of Object.entries(delta)) sum[name] = (sum[name] ?? 0) + v;
          expected.set(id, sum);
        };
        for (const r of responses) {
          // The fixture's invitations were never sent, so each first answer also counts its delivery.
          const delta = { ...responseDelta(null, r.answers as Answers, r.attribution === 'anonymous'), delivered: 1 };
          add(keys.proCounter(agencyId, r.proId, r.period, r.audience), delta);
          add(keys.campaignCounter(agencyId, r.campaignId, r.audience), delta);
          add(keys.agencyCounter(agencyId, r.period, r.audience), delta);
        }
        const partitions = [
          ...proIds.map((p) => keys.proCounter(agencyId, p, '', '').PK),
          ...campaignIds.map((c) => keys.campaignCounter(agencyId, c, '').PK),
          keys.agencyCounter(agencyId, '', '').PK,
        ];
        const stored = new Map((await Promise.all(partitions.map(queryPartition))).flat().map((item) => [`${item.PK}|${item.SK}`, item]));
        for (const id of new Set([...expected.keys(), ...stored.keys()])) {
          expect(readCounter(stored.get(id) ?? {}), id).toEqual(readCounter(expected.get(id) ?? {}));
        }

        // The testimonial list is exactly the responses that qualify now.
        const testimonials = await queryPartition(keys.testimonial(agencyId, '', '').PK);
        expect(testimonials.map((t) => t.invitationId).sort()).toEqual(responses.filter((r) => isTestimonial(r.answers)).map((r) => r.invitationId).sort());
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
