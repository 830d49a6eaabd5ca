import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { testDeps, recomputeAggregate } from '@rapport/testing';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { batchGet, mapConcurrent } from '../db/batch';
import { keys } from '../db/keys';
import { closeRound } from '../jobs/expiry';
import { batchesReleased, releaseOf } from '../release/release';
import type { ReleaseBatch } from '../release/batch';
import { createRound, type Invitation, type Round } from '../survey/round';
import { isTestimonial, submitResponse, type SurveyResponse } from '../survey/response';
import { responseOf } from '../survey/response-item';
import { AUDIENCE_DIMENSIONS, AUDIENCES, type Audience } from '../survey/instrument';
import { batchAggregate, readCounter, responseDelta, type Delta } from './counters';
import { deliveredTally } from './open-rounds';

const { db } = testDeps();

describe('responseDelta', () => {
  it('adds n, Σx, Σx² and the histogram bin of each answered item', () => {
    expect(responseDelta(null, { responsiveness: 4, recommend: 9 })).toEqual({
      i_responsiveness_n: 1, i_responsiveness_s: 4, i_responsiveness_q: 16, i_responsiveness_h4: 1,
      i_recommend_n: 1, i_recommend_s: 9, i_recommend_q: 81, i_recommend_h9: 1,
    });
  });

  it('on a revision takes the old answer out and puts the new one in, leaving out what nets to zero', () => {
    expect(responseDelta({ responsiveness: 2, listening: 3 }, { responsiveness: 5, listening: 3, recommend: 0 })).toEqual({
      i_responsiveness_s: 3, i_responsiveness_q: 21, i_responsiveness_h2: -1, i_responsiveness_h5: 1,
      i_recommend_n: 1, i_recommend_h0: 1, // Σx and Σx² of a 0 add nothing
    });
    expect(responseDelta({ responsiveness: 3 }, { responsiveness: 3 })).toEqual({});
  });
});

describe('batchAggregate', () => {
  it('sums each item over the batch, leaving out an item fewer than k answered', () => {
    // k = 3: recommend was given twice, listening three times.
    expect(batchAggregate([{ responsiveness: 5, recommend: 9, listening: 4 }, { responsiveness: 3, recommend: 0, listening: 4 }, { responsiveness: 3, listening: 1 }], 3)).toEqual({
      i_responsiveness_n: 3, i_responsiveness_s: 11, i_responsiveness_q: 43, i_responsiveness_h5: 1, i_responsiveness_h3: 2,
      i_listening_n: 3, i_listening_s: 9, i_listening_q: 33, i_listening_h4: 2, i_listening_h1: 1,
    });
  });
});


/**
 * The property the scores rest on: after any submissions and revisions (some concurrent) and the
 * close of any rounds (some concurrent, some twice), every counter is exactly the sum of the
 * batches released into it plus the deliveries the answers proved; every anonymous batch is at least k answers,
 * disjoint from the others, and adds exactly what its rows give under the per-item rule; and no
 * answer of an open anonymous round is counted, listed or quoted anywhere.
 */
describe('counters against DynamoDB Local', () => {
  const K = 3;
  const PER_AUDIENCE = 3;
  // Auckland: 2030-01-31T20:00Z is already February there, so months follow the agency's zone.
  const START_TIMES = ['2030-01-10T09:00:00.000Z', '2030-01-31T20:00:00.000Z', '2030-03-05T09:00:00.000Z'].map((t) => new Date(t));
  // Three campaigns (two of the first pro) × three months = nine rounds, PER_AUDIENCE invitations of each audience.
  const ROUNDS = 9;
  const audienceOf = (i: number): Audience => AUDIENCES[Math.floor(i / PER_AUDIENCE)]!;
  const INVITATIONS_PER_ROUND = AUDIENCES.length * PER_AUDIENCE;

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
  // Per invitation: no answer, an answer, or an answer and a revision (sometimes sent at once).
  const invitationPlan = (audience: Audience) =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant({ versions: [] as object[], together: false }) },
      { weight: 4, arbitrary: fc.record({ versions: fc.array(answersFor(audience), { minLength: 1, maxLength: 2 }), together: fc.boolean() }) },
    );
  const roundPlan = fc.record({
    anonymous: fc.boolean(),
    invitations: fc.tuple(...Array.from({ length: INVITATIONS_PER_ROUND }, (_, i) => invitationPlan(audienceOf(i)))),
    // 0: left open; 1–2: closed; 3: closed twice at once. Hours after its close time.
    close: fc.integer({ min: 0, max: 3 }),
    closeAfterHours: fc.integer({ min: 1, max: 40 * 24 }),
  });
  const plans = fc.record({ rounds: fc.tuple(...Array.from({ length: ROUNDS }, () => roundPlan)), order: fc.nat() });

  let run = 0;
  async function fixture(anonymous: boolean[]) {
    const tag = `${++run}-${Date.now()}`;
    const start = START_TIMES[0]!;
    const agency = await createAgency(db, { name: `Counters ${tag}`, timezone: 'Pacific/Auckland' }, start);
    const agencyId = agency.agencyId;
    await updateSettings(db, agencyId, { anonymityThreshold: K }, start);
    const proIds: string[] = [];
    for (const who of ['ana', 'bo']) proIds.push((await createPro(db, agencyId, { name: who, email: `${who}-${tag}@acme.example` }, start)).proId);
    const campaignIds: string[] = [];
    for (const [i, proId] of [proIds[0]!, proIds[0]!, proIds[1]!].entries()) campaignIds.push((await createCampaign(db, agencyId, { proId, name: `Campaign ${i}` }, start)).campaignId);
    const rounds: Round[] = [];
    const invitations: Invitation[][] = [];
    for (const campaignId of campaignIds) {
      for (const at of START_TIMES) {
        const r = rounds.length;
        const recipients = Array.from({ length: INVITATIONS_PER_ROUND }, (_, i) => ({ email: `i${i}-r${r}-${tag}@news.example`, audience: audienceOf(i) }));
        const created = await createRound(db, agencyId, campaignId, { recipients, attribution: anonymous[r] ? 'anonymous' : 'named' }, at);
        rounds.push(created.round);
        invitations.push(created.accepted);
      }
    }
    expect(rounds.map((x) => x.period)).toEqual(['2030-01', '2030-02', '2030-03', '2030-01', '2030-02', '2030-03', '2030-01', '2030-02', '2030-03']);
    expect(invitations.map((list) => list.map((i) => i.audience))).toEqual(rounds.map(() => Array.from({ length: INVITATIONS_PER_ROUND }, (_, i) => audienceOf(i))));
    return { agencyId, proIds, campaignIds, rounds, invitations };
  }

  async function queryPartition(pk: string) {
    const found: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true, ExclusiveStartKey: start }));
      found.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /** A deterministic shuffle from the plan's seed, so the interleaving is part of the case. */
  function shuffled<T>(list: T[], seed: number): T[] {
    const out = [...list];
    let s = seed >>> 0 || 1;
    for (let i = out.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  it('equal the sum of the released batches, which equal a recomputation from their rows; open anonymous rounds count nowhere', async () => {
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const fx = await fixture(plan.rounds.map((r) => r.anonymous));
        const at = (round: Round, hours: number) => new Date(new Date(round.createdAt).getTime() + hours * 3_600_000);

        // Answers, then revisions, four at a time in a shuffled order (several to one round at once).
        type Submit = { round: Round; invitation: Invitation; versions: object[]; together: boolean };
        const submits: Submit[] = plan.rounds.flatMap((rp, r) =>
          rp.invitations.flatMap((ip, i) => (ip.versions.length ? [{ round: fx.rounds[r]!, invitation: fx.invitations[r]![i]!, ...ip }] : [])),
        );
        await mapConcurrent(shuffled(submits, plan.order), 4, async (s) => {
          if (s.together) {
            // A double submit in flight at once: both are stored, one after the other, in some order.
            await Promise.all(s.versions.map((v) => submitResponse(db, s.invitation, v, at(s.round, 1))));
          } else {
            for (const [n, v] of s.versions.entries()) await submitResponse(db, s.invitation, v, at(s.round, 1 + n));
          }
        });

        // Close some rounds, all at once (releases of one pro's pool race), some twice at once.
        const closing = plan.rounds.flatMap((rp, r) => {
          if (rp.close === 0) return [];
          const round = fx.rounds[r]!;
          const when = new Date(new Date(round.closesAt).getTime() + rp.closeAfterHours * 3_600_000);
          return Array.from({ length: rp.close === 3 ? 2 : 1 }, () => closeRound(db, round.roundId, when));
        });
        expect((await Promise.all(closing)).every(Boolean)).toBe(true);
        const closed = new Set(plan.rounds.flatMap((rp, r) => (rp.close ? [fx.rounds[r]!.roundId] : [])));

        // ---- What is stored.
        const roundItems = await Promise.all(fx.rounds.map((round) => queryPartition(keys.round(round.roundId).PK)));
        for (const [r, items] of roundItems.entries()) {
          expect(items.find((item) => item.SK === 'RND')!.status).toBe(closed.has(fx.rounds[r]!.roundId) ? 'closed' : 'open');
        }
        const rows = roundItems.flat().filter((item) => item.type === 'response').map(responseOf);
        expect(rows).toHaveLength(submits.length);
        const batches = (await Promise.all(fx.proIds.map((p) => batchesReleased(db, fx.agencyId, p, '0', '~')))).flat();
        const anonymousBatches = batches.filter((b) => b.attribution === 'anonymous');
        const pools = (await Promise.all(fx.proIds.map((p) => queryPartition(keys.pool(fx.agencyId, p, '').PK)))).flat();
        const ref = (x: { roundId: string; invitationId: string }) => `${x.roundId}|${x.invitationId}`;
        const rowsOfBatch = (b: ReleaseBatch) => rows.filter((row) => row.release?.batchId === b.batchId);

        // ---- (a) Every counter is the sum of its batches plus the deliveries, exactly.
        const namedRows = rows.filter((row) => row.attribution === 'named');
        const expected = new Map<string, Delta>();
        const add = (key: { PK: string; SK: string }, delta: Delta) => {
          const id = `${key.PK}|${key.SK}`;
          const sum = expected.get(id) ?? {};
          for (const [name, v] of Object.entries(delta)) sum[name] = (sum[name] ?? 0) + v;
          expected.set(id, sum);
        };
        for (const b of batches) {
          add(keys.proCounter(fx.agencyId, b.proId, b.period, b.audience), b.aggregate);
          add(keys.agencyCounter(fx.agencyId, b.period, b.audience), b.aggregate);
          if (b.campaignId) add(keys.campaignCounter(fx.agencyId, b.campaignId, b.audience), b.aggregate);
        }
        // The invitations were never sent: a named first answer proves its delivery and counts it;
        // an anonymous one counts nothing when given (it would tell who answered). The counters
        // hold a round's deliveries from its close (the fold); an open round's are tallied when read.
        for (const row of namedRows.filter((row) => closed.has(row.roundId))) {
          add(keys.proCounter(fx.agencyId, row.proId, row.period, row.audience), { delivered: 1 });
          add(keys.agencyCounter(fx.agencyId, row.period, row.audience), { delivered: 1 });
          add(keys.campaignCounter(fx.agencyId, row.campaignId, row.audience), { delivered: 1 });
        }
        const partitions = [
          ...fx.proIds.map((p) => keys.proCounter(fx.agencyId, p, '', '').PK),
          ...fx.campaignIds.map((c) => keys.campaignCounter(fx.agencyId, c, '').PK),
          keys.agencyCounter(fx.agencyId, '', '').PK,
        ];
        const stored = new Map((await Promise.all(partitions.map(queryPartition))).flat().map((item) => [`${item.PK}|${item.SK}`, item]));
        for (const id of new Set([...expected.keys(), ...stored.keys()])) {
          expect(readCounter(stored.get(id) ?? {}), id).toEqual(readCounter(expected.get(id) ?? {}));
        }
        // An open round's deliveries are its tally: here its named first answers, per audience.
        for (const round of fx.rounds.filter((r) => !closed.has(r.roundId))) {
          const tally: Record<string, number> = {};
          for (const row of namedRows.filter((row) => row.roundId === round.roundId)) tally[row.audience] = (tally[row.audience] ?? 0) + 1;
          expect(Object.fromEntries(await deliveredTally(db, round, { consistent: true }))).toEqual(tally);
        }

        // A named answer is a batch of one that follows its revisions.
        expect(batches.filter((b) => b.attribution === 'named')).toHaveLength(namedRows.length);
        for (const row of namedRows) {
          const b = batches.find((x) => x.batchId === row.release!.batchId)!;
          expect(b).toMatchObject({ attribution: 'named', k: 1, size: 1, campaignId: row.campaignId, period: row.period });
          expect(b.aggregate).toEqual(recomputeAggregate([row.answers], 1));
        }

        // ---- (b) Each anonymous batch adds exactly what its rows give under the per-item rule.
        // ---- (c) ...is at least k answers, and no answer is in two batches.
        const inBatch = new Map<string, string>();
        for (const b of anonymousBatches) {
          const members = rowsOfBatch(b);
          expect(b.k).toBe(K);
          expect(b.size).toBeGreaterThanOrEqual(b.k);
          expect(members).toHaveLength(b.size);
          expect(b.aggregate).toEqual(recomputeAggregate(members.map((row) => row.answers), b.k));
          for (const row of members) expect(row.release).toEqual({ ...releaseOf(b), rowKey: row.release!.rowKey });
          // The batch names exactly those rows, none named by another batch.
          const named = 'roundId' in b.source
            ? rows.filter((row) => row.roundId === (b.source as { roundId: string }).roundId && row.audience === b.audience)
            : b.source.members.map((m) => rows.find((row) => ref(row) === ref(m))!);
          expect(named.map(ref).sort()).toEqual(members.map(ref).sort());
          for (const row of named) {
            expect(inBatch.get(ref(row)), ref(row)).toBeUndefined();
            inBatch.set(ref(row), b.batchId);
          }
          if ('roundId' in b.source) expect([b.campaignId, b.period]).toEqual([members[0]!.campaignId, members[0]!.period]);
          else expect([b.campaignId, b.campaignName]).toEqual([null, null]);
        }
        // Every batch finished publishing its rows.
        const records = await batchGet(db, anonymousBatches.map((b) => keys.batch(b.batchId)));
        for (const record of records.values()) expect(record).not.toHaveProperty('GSI2PK');

        // ---- (d) A closed anonymous round's answers are released or wait in the pool (under k);
        // an open one's are nowhere: not released, not pooled, not quoted.
        const pooled = new Set(pools.flatMap((p) => (p.members as { roundId: string; invitationId: string }[]).map(ref)));
        for (const p of pools) {
          expect(p.size).toBe((p.members as unknown[]).length);
          expect(p.size as number).toBeLessThan(K);
        }
        for (const row of rows.filter((x) => x.attribution === 'anonymous')) {
          if (closed.has(row.roundId)) {
            expect(inBatch.has(ref(row)) !== pooled.has(ref(row)), ref(row)).toBe(true);
            expect(row.release === undefined).toBe(!inBatch.has(ref(row)));
          } else {
            expect(row.release, ref(row)).toBeUndefined();
            expect(inBatch.has(ref(row)) || pooled.has(ref(row)), ref(row)).toBe(false);
            expect(row).not.toHaveProperty('GSI1PK');
          }
        }

        // The testimonials are exactly the released rows that qualify, each at its row's place.
        const testimonials = await queryPartition(keys.testimonial(fx.agencyId, '').PK);
        const quotable = rows.filter((row) => row.release && isTestimonial(row.answers));
        expect(testimonials.map((t) => [t.SK, t.invitationId, t.answers]).sort()).toEqual(quotable.map((row) => [row.release!.rowKey, row.invitationId, row.answers]).sort());
      }),
      // Each run takes seconds on the real engine: a failure is reported with its seed and case
      // rather than shrunk past the timeout.
      { numRuns: 5, endOnFailure: true },
    );
  }, 150_000);
});
