import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  AUDIENCE_DIMENSIONS,
  AUDIENCES,
  buildAgencySummary,
  closeRound,
  createCampaign,
  createPro,
  createRound,
  getAgency,
  keys,
  mapConcurrent,
  monthPeriod,
  recordCommitment,
  responseOf,
  SCORED_ITEMS,
  submitResponse,
  type Answers,
  type Audience,
  type Invitation,
  type Round,
  type ScoredItem,
  type SurveyResponse,
} from '@rapport/core';
import { createDeps } from '@rapport/functions';
import { agencyFixture, findIsolation, parseCsv, testConfig, type AgencyFixture, type Row } from '@rapport/testing';

/**
 * The attacker test (issue 10). An agency with its own admin key reads everything Rapport
 * publishes about its answers — every scores endpoint with every filter, granularity and period,
 * the agency view, campaign scores, summary previews, the agency summary, the responses list and
 * the invitation lists — after every event of a random history (rounds over three months, named
 * and anonymous, answers, revisions, closes). Then:
 *
 * - every published figure must equal the same figure recomputed from the released answers its
 *   scope covers, which gives each figure's membership over the answers;
 * - collecting those memberships over the whole history (reads at any times), no rational linear
 *   combination may isolate fewer than k anonymous answers (exact Gaussian elimination, per item:
 *   n, Σx and every histogram bin of an item share its membership);
 * - figures change only when whole batches are released;
 * - listed rows belong to released batches and carry only their attributes; invitation lists of
 *   anonymous rounds show delivery only.
 *
 * Named answers are known to the attacker (listed with the respondent), so they are constants,
 * not unknowns. `delivered`, `responses` (answers received) and the response rate count
 * invitations, not what anyone answered, and are not answer figures.
 */

const K = 3;
const MONTHS = ['2030-01', '2030-02', '2030-03'] as const;
// The attacker reads far more than the per-key rate limit allows in a minute: it is off here.
const deps = createDeps(testConfig({ API_RATE_LIMIT_PER_MINUTE: '0' }), { now: () => new Date('2030-06-15T12:00:00.000Z') });
const { db } = deps;

interface Scenario {
  /** Answers of K reporters to one more anonymous round, so every history releases a batch. */
  anchor: Answers[];
  rounds: { pro: 0 | 1 | 2; month: 0 | 1 | 2; named: boolean; audiences: Audience[] }[];
  events: ({ kind: 'answer'; round: number; recipient: number; answers: Answers } | { kind: 'close'; round: number })[];
}

const answersArb = fc.record(
  {
    responsiveness: fc.integer({ min: 1, max: 5 }),
    recommend: fc.integer({ min: 0, max: 10 }),
    listening: fc.integer({ min: 1, max: 5 }),
    anticipation: fc.integer({ min: 1, max: 5 }),
    improve: fc.constantFrom('Call back sooner', 'Great'),
    quoteConsent: fc.boolean(),
  },
  { requiredKeys: ['responsiveness', 'quoteConsent'] },
) as fc.Arbitrary<Answers>;

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .array(
    fc.record({
      // 0 and 1: pro A's two campaigns; 2: pro B's campaign.
      pro: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
      month: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
      named: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
      audiences: fc.array(fc.constantFrom<Audience>('reporter', 'colleague', 'client'), { minLength: 2, maxLength: 6 }),
    }),
    { minLength: 2, maxLength: 4 },
  )
  .chain((rounds) =>
    fc.record({
      anchor: fc.array(answersArb, { minLength: K, maxLength: K }),
      rounds: fc.constant(rounds),
      events: fc.array(
        fc.oneof(
          { weight: 5, arbitrary: fc.record({ kind: fc.constant('answer' as const), round: fc.nat({ max: rounds.length - 1 }), recipient: fc.nat({ max: 5 }), answers: answersArb }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), round: fc.nat({ max: rounds.length - 1 }) }) },
        ),
        { minLength: 8, maxLength: 16 },
      ),
    }),
  );

/** One answer as the attacker's unknown: where it lives and, once released, its batch. */
interface Truth {
  id: string;
  proId: string;
  audience: Audience;
  anonymous: boolean;
  answers: Answers;
  release: NonNullable<SurveyResponse['release']> | null;
}

/** A figure as published, with the scope that says which released answers it covers. */
interface Figure {
  name: string;
  item: ScoredItem;
  n: number;
  mean: number | null;
  covers: (t: Truth) => boolean;
}

const inRange = (from: string, to: string) => (t: Truth) => t.release !== null && t.release.releasedAt >= from && t.release.releasedAt < to;
const byMonths = (months: readonly string[]) => (t: Truth) => t.release !== null && months.includes(t.release.period);
const monthsOf = (label: string, from: string, to: string) =>
  MONTHS_ALL.filter((m) => m >= from && m <= to && (label === 'total' || m === label || `${m.slice(0, 4)}-Q${Math.ceil(Number(m.slice(5)) / 3)}` === label));
const MONTHS_ALL = ['2029-12', ...MONTHS, '2030-04', '2030-05', '2030-06'];

/** Does this released answer count for this item (the batch rule: at least k of the batch answered it)? */
function counts(t: Truth, item: ScoredItem, truths: readonly Truth[]): boolean {
  if (!t.release || t.answers[item as keyof Answers] === undefined) return false;
  const batch = truths.filter((u) => u.release?.batchId === t.release!.batchId);
  return batch.filter((u) => u.answers[item as keyof Answers] !== undefined).length >= t.release.k;
}

/** The item figures of a published group (`{ n, items }`). */
function groupFigures(name: string, group: any, covers: (t: Truth) => boolean): Figure[] {
  if (!group) return [];
  const figures: Figure[] = [{ name: `${name}.n`, item: 'responsiveness', n: group.n, mean: null, covers }];
  for (const [item, score] of Object.entries(group.items ?? {}) as [ScoredItem, any][]) figures.push({ name: `${name}.${item}`, item, n: score.n, mean: score.mean, covers });
  return figures;
}

/** A summary figure: `{ n, withheld }` or `{ n, value }` (value is a mean only for the mean kinds). */
function summaryFigure(name: string, item: ScoredItem, figure: any, isMean: boolean, covers: (t: Truth) => boolean): Figure[] {
  if (!figure) return [];
  return [{ name, item, n: figure.n, mean: isMean && !figure.withheld ? figure.value : null, covers }];
}

async function collect(f: AgencyFixture, pros: string[], campaigns: string[]): Promise<{ figures: Figure[]; rows: any[]; csv: string[][] }> {
  const get = async (path: string) => {
    const res = await f.call('GET', path);
    expect(res.status, path).toBe(200);
    return res.body;
  };
  const range = 'from=2029-12&to=2030-06';
  const audienceFilters = [undefined, ...AUDIENCES] as const;
  const figures: Figure[] = [];
  // Thunks, run a few at a time: DynamoDB Local on two cores does not like sixty at once.
  const reads: (() => Promise<void>)[] = [];
  for (const granularity of ['month', 'quarter', 'total']) {
    for (const audience of audienceFilters) {
      const q = `${range}&granularity=${granularity}${audience ? `&audience=${audience}` : ''}`;
      const inAudience = (t: Truth) => !audience || t.audience === audience;
      for (const proId of pros) {
        reads.push(() =>
          get(`/v1/pros/${proId}/scores?${q}`).then((body) => {
            for (const p of body.periods) {
              const scope = (t: Truth) => t.proId === proId && inAudience(t) && byMonths(monthsOf(p.period, '2029-12', '2030-06'))(t);
              figures.push(...groupFigures(`pro ${proId} ${q} ${p.period} total`, p.total, scope));
              for (const [a, g] of Object.entries(p.audiences)) figures.push(...groupFigures(`pro ${proId} ${q} ${p.period} ${a}`, g, (t) => scope(t) && t.audience === a));
            }
          }),
        );
      }
      reads.push(() =>
        get(`/v1/scores?${q}`).then((body) => {
          for (const p of body.periods) {
            const scope = (t: Truth) => inAudience(t) && byMonths(monthsOf(p.period, '2029-12', '2030-06'))(t);
            figures.push(...groupFigures(`agency ${q} ${p.period} total`, p.total, scope));
            for (const [a, g] of Object.entries(p.audiences)) figures.push(...groupFigures(`agency ${q} ${p.period} ${a}`, g, (t) => scope(t) && t.audience === a));
          }
          for (const pro of body.pros) figures.push(...groupFigures(`agency ${q} pro ${pro.proId}`, pro, (t) => t.proId === pro.proId && inAudience(t) && byMonths(MONTHS_ALL)(t)));
        }),
      );
    }
  }
  for (const campaignId of campaigns) {
    reads.push(() =>
      get(`/v1/campaigns/${campaignId}/scores`).then((body) => {
        const scope = (t: Truth) => t.release?.campaignId === campaignId;
        figures.push(...groupFigures(`campaign ${campaignId} total`, body.total, scope));
        for (const [a, g] of Object.entries(body.audiences)) figures.push(...groupFigures(`campaign ${campaignId} ${a}`, g, (t) => scope(t) && t.audience === a));
      }),
    );
  }
  for (const proId of pros) {
    for (const month of [...MONTHS, '2030-04']) {
      reads.push(() =>
        get(`/v1/pros/${proId}/summary?period=${month}`).then((body) => {
          if (!body.summary) return;
          const s = body.summary;
          const mine = (t: Truth) => t.proId === proId;
          const previous = monthPeriod(MONTHS_ALL[MONTHS_ALL.indexOf(month) - 1]!, 'UTC');
          const current = (t: Truth) => mine(t) && inRange(s.period.from, s.period.to)(t);
          const before = (t: Truth) => mine(t) && inRange(previous.from, previous.to)(t);
          for (const h of s.headline) {
            const item: ScoredItem = h.key === 'nps' ? 'recommend' : 'responsiveness';
            figures.push(...summaryFigure(`summary ${proId} ${month} ${h.key}`, item, h.current, h.key === 'responsiveness', current));
            figures.push(...summaryFigure(`summary ${proId} ${month} ${h.key} before`, item, h.previous, h.key === 'responsiveness', before));
          }
          for (const point of s.trend) figures.push(...summaryFigure(`summary ${proId} ${month} trend ${point.period}`, 'responsiveness', point.figure, true, (t) => mine(t) && byMonths([point.period])(t)));
          if (s.weakest) figures.push({ name: `summary ${proId} ${month} weakest`, item: s.weakest.dimension, n: s.weakest.n, mean: s.weakest.mean, covers: current });
          if (s.commitment) {
            figures.push(
              ...summaryFigure(`summary ${proId} ${month} since commitment`, 'responsiveness', s.commitment.responsiveness, true, (t) => mine(t) && inRange(s.commitment.since, s.period.to)(t)),
            );
          }
        }),
      );
    }
  }
  const agency = await getAgency(db, f.agencyId);
  for (const month of MONTHS) {
    reads.push(() =>
      buildAgencySummary(db, agency, monthPeriod(month, 'UTC'), 'http://localhost').then((s) => {
        const previous = monthPeriod(MONTHS_ALL[MONTHS_ALL.indexOf(month) - 1]!, 'UTC');
        for (const row of s.team) {
          figures.push(...summaryFigure(`agency summary ${month} ${row.proId}`, 'responsiveness', row.responsiveness, true, (t) => t.proId === row.proId && inRange(s.period.from, s.period.to)(t)));
          figures.push(...summaryFigure(`agency summary ${month} ${row.proId} before`, 'responsiveness', row.previous, true, (t) => t.proId === row.proId && inRange(previous.from, previous.to)(t)));
        }
      }),
    );
  }
  const rows: any[] = [];
  reads.push(
    async () => {
      let cursor: string | null = null;
      do {
        const body: any = await get(`/v1/responses?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        rows.push(...body.data);
        cursor = body.nextCursor;
      } while (cursor);
    },
  );
  let csv: string[][] = [];
  reads.push(async () => {
    csv = parseCsv((await f.call('GET', '/v1/responses.csv')).body as string);
  });
  await mapConcurrent(reads, 4, (read) => read());
  return { figures, rows, csv };
}

/** Every stored answer of the rounds, as the attacker's unknowns (read from the table: the truth). */
async function truths(rounds: readonly Round[]): Promise<Truth[]> {
  const all: Truth[] = [];
  for (const round of rounds) {
    const { Items = [] } = await db.doc.send(
      new QueryCommand({ TableName: db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rsp)', ExpressionAttributeValues: { ':pk': keys.round(round.roundId).PK, ':rsp': 'RSP#' }, ConsistentRead: true }),
    );
    for (const r of Items.map(responseOf)) {
      all.push({ id: r.invitationId, proId: r.proId, audience: r.audience, anonymous: r.attribution === 'anonymous', answers: r.answers, release: r.release ?? null });
    }
  }
  return all;
}

/** The part of a figure an attacker does not know: its membership over anonymous answers (named ones are published with names). */
function membership(figure: Figure, all: readonly Truth[]): Row {
  return Object.fromEntries(all.filter((t) => t.anonymous && figure.covers(t) && counts(t, figure.item, all)).map((t) => [t.id, 1]));
}

/** Runs per `npm test`; `npm run attack` runs many more. */
const RUNS = Number(process.env.ATTACK_RUNS ?? 3);

describe('the attacker test', () => {
  it('no combination of anything published, read at any times, isolates fewer than k anonymous answers', async () => {
    let anonymousBatches = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const f = await agencyFixture(deps);
        await f.call('PATCH', '/v1/settings', { body: { anonymityThreshold: K } });
        const start = new Date('2029-12-01T00:00:00.000Z');
        const proA = (await createPro(db, f.agencyId, { name: 'Ana', email: `ana-${f.agencyId.slice(3)}@acme.example` }, start)).proId;
        const proB = (await createPro(db, f.agencyId, { name: 'Bo', email: `bo-${f.agencyId.slice(3)}@acme.example` }, start)).proId;
        const campaigns = [
          (await createCampaign(db, f.agencyId, { proId: proA, name: 'A one' }, start)).campaignId,
          (await createCampaign(db, f.agencyId, { proId: proA, name: 'A two' }, start)).campaignId,
          (await createCampaign(db, f.agencyId, { proId: proB, name: 'B one' }, start)).campaignId,
        ];
        // A commitment, so the summaries publish a "since then" figure that overlaps their periods.
        await recordCommitment(db, f.agencyId, proA, { text: 'Call back within a day' }, new Date('2030-01-20T00:00:00.000Z'));
        const rounds: Round[] = [];
        const invitations: Invitation[][] = [];
        const anchor = { pro: 1, month: 0, named: false, audiences: scenario.anchor.map(() => 'reporter' as const) };
        for (const [i, r] of [...scenario.rounds, anchor].entries()) {
          const at = new Date(`${MONTHS[r.month]}-0${2 + i}T09:00:00.000Z`);
          const recipients = r.audiences.map((audience, j) => ({ email: `r${i}-${j}-${f.agencyId.slice(3)}@news.example`, audience }));
          const created = await createRound(db, f.agencyId, campaigns[r.pro]!, { recipients, attribution: r.named ? 'named' : 'anonymous' }, at);
          rounds.push(created.round);
          invitations.push(created.accepted);
        }
        const closed = new Set<number>();
        const rows: Row[] = [];
        const seen = new Set<string>();
        let before: string | null = null;
        let batchesBefore = -1;

        const observe = async (mustNotChange: boolean) => {
          const t0 = Date.now();
          if (process.env.ATTACK_DEBUG) console.log('observe start');
          const all = await truths(rounds);
          const { figures, rows: listed, csv } = await collect(f, [proA, proB], campaigns);
          for (const figure of figures) {
            // The figure is exactly the released answers its scope covers: that is its membership.
            const members = all.filter((t) => figure.covers(t) && counts(t, figure.item, all));
            expect(figure.n, figure.name).toBe(members.length);
            if (figure.mean !== null) {
              const values = members.map((t) => t.answers[figure.item as keyof Answers] as number);
              expect(figure.mean, figure.name).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
            }
            const row = membership(figure, all);
            const key = `${figure.item}|${Object.keys(row).sort().join(',')}`;
            if (Object.keys(row).length && !seen.has(key)) {
              seen.add(key);
              rows.push(Object.fromEntries(Object.entries(row).map(([id, c]) => [`${figure.item}:${id}`, c])));
            }
          }
          // Listed rows: whole released batches, each row only its batch's attributes.
          const released = all.filter((t) => t.release);
          expect(listed.length).toBe(released.length);
          for (const row of listed) {
            const batch = released.filter((t) => t.release!.batchId === row.batchId);
            expect(batch.length, 'a listed row belongs to a released batch').toBeGreaterThan(0);
            expect(row).toMatchObject({ releasedAt: batch[0]!.release!.releasedAt, campaignId: batch[0]!.release!.campaignId, period: batch[0]!.release!.period });
            if (row.attribution === 'anonymous') {
              expect(row).toMatchObject({ surveyId: null, invitationId: null, respondent: null, firstSubmittedAt: null, submittedAt: null, revision: null });
              expect(batch.length, 'an anonymous batch holds at least k').toBeGreaterThanOrEqual(K);
            }
          }
          // The CSV: the same released rows, anonymous ones without time, revision or ids.
          const [header, ...lines] = csv;
          expect(lines).toHaveLength(listed.length);
          const cell = (line: string[], column: string) => line[header!.indexOf(column)];
          for (const line of lines.filter((l) => cell(l, 'attribution') === 'anonymous')) {
            for (const column of ['first_submitted_at', 'submitted_at', 'revision', 'survey_id', 'invitation_id', 'respondent_name', 'respondent_email']) expect(cell(line, column)).toBe('');
            expect(released.some((t) => t.release!.batchId === cell(line, 'batch_id'))).toBe(true);
          }
          // Invitation lists of anonymous rounds: delivery only.
          for (const round of rounds.filter((r) => r.attribution === 'anonymous')) {
            const list = await f.call('GET', `/v1/surveys/${round.roundId}/invitations?limit=100`);
            for (const i of list.body.data) {
              expect(['pending', 'sending', 'sent', 'bounced', 'failed', 'skipped']).toContain(i.status);
              expect(i).toMatchObject({ respondedAt: null, remindersSent: null, nextReminderAt: null });
            }
          }
          // Figures move only when whole batches are released.
          const snapshot = JSON.stringify(figures.map((x) => [x.name, x.n, x.mean]).sort());
          const batches = new Set(released.map((t) => t.release!.batchId)).size;
          if (mustNotChange && before !== null && batches === batchesBefore) expect(snapshot).toBe(before);
          before = snapshot;
          batchesBefore = batches;
          // The attack: per item, nothing below k lies in the span of everything read so far.
          for (const item of SCORED_ITEMS) {
            const itemRows = rows.filter((r) => Object.keys(r)[0]!.startsWith(`${item}:`));
            const found = findIsolation(itemRows, K);
            expect(found.isolated, `${item}: a set below k is isolated`).toBeNull();
          }
          if (process.env.ATTACK_DEBUG) console.log('observe', Date.now() - t0, 'ms', figures.length, 'figures', rows.length, 'rows');
        };

        await observe(false);
        const anchorEvents = scenario.anchor.map((answers, recipient) => ({ kind: 'answer' as const, round: scenario.rounds.length, recipient, answers }));
        for (const [e, event] of [...anchorEvents, ...scenario.events].entries()) {
          const round = rounds[event.round]!;
          if (event.kind === 'close') {
            if (closed.has(event.round)) continue;
            closed.add(event.round);
            await closeRound(db, round.roundId, new Date(new Date(round.closesAt).getTime() + 60_000 * (e + 1)));
            await observe(true);
            continue;
          }
          const invitation = invitations[event.round]![event.recipient % invitations[event.round]!.length]!;
          if (closed.has(event.round)) continue;
          const answers = { ...event.answers };
          for (const d of ['listening', 'anticipation'] as const) if (!AUDIENCE_DIMENSIONS[invitation.audience].includes(d)) delete answers[d];
          await submitResponse(db, invitation, answers, new Date(new Date(round.createdAt).getTime() + 3_600_000 + e * 1000));
          // An anonymous answer changes nothing published; a named one is released at once (a batch of one).
          await observe(round.attribution === 'anonymous');
        }
        for (const [i, round] of rounds.entries()) {
          if (closed.has(i)) continue;
          await closeRound(db, round.roundId, new Date(new Date(round.closesAt).getTime() + 3_600_000));
          await observe(true);
        }
        anonymousBatches += new Set((await truths(rounds)).filter((t) => t.anonymous && t.release).map((t) => t.release!.batchId)).size;
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // Not vacuous: every history released at least its anchor batch.
    expect(anonymousBatches).toBeGreaterThanOrEqual(RUNS);
  }, 120_000 * RUNS);
});
