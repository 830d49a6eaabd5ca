import { describe, expect, it } from 'vitest';
import { testDeps } from '@rapport/testing';
import { createAgency, updateSettings } from '../agency/agency';
import { createPro } from '../pro/pro';
import { createCampaign } from '../campaign/campaign';
import { closeRound } from '../jobs/expiry';
import { createRound, type Round } from '../survey/round';
import { submitResponse } from '../survey/response';
import { deliver } from '../sending/dispatch';
import { meanWithInterval, nps, percentResponsive } from './stats';
import { agencyScores, campaignScores, proScores } from './report';

/**
 * Reports add up counters, and counters hold whole release batches only (and deliveries): so a
 * report shows what was released, its n and figures, nothing withheld, and a response rate of
 * released answers over delivered invitations.
 */
const { db, mailer, linkSecret } = testDeps();
const afterClose = (round: Round) => new Date(new Date(round.closesAt).getTime() + 60_000);

let n = 0;
async function fixture() {
  const tag = `${++n}-${Date.now()}`;
  const t0 = new Date('2030-05-06T09:00:00.000Z');
  const agency = await createAgency(db, { name: `Report ${tag}` }, t0);
  await updateSettings(db, agency.agencyId, { anonymityThreshold: 3 }, t0);
  const pro = await createPro(db, agency.agencyId, { name: 'Jane Doe', email: `jane-${tag}@acme.example` }, t0);
  const [x, y] = [await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'X' }, t0), await createCampaign(db, agency.agencyId, { proId: pro.proId, name: 'Y' }, t0)];
  let r = 0;
  /** An anonymous round of `campaignId`, its emails delivered, whose recipients give these answers an hour after it starts. */
  const roundWith = async (campaignId: string, answers: { audience: 'reporter' | 'client'; answers: object }[], at: Date) => {
    const recipients = answers.map((a, i) => ({ email: `p${i}-r${++r}-${tag}@news.example`, audience: a.audience }));
    const { round, accepted } = await createRound(db, agency.agencyId, campaignId, { recipients }, at);
    const delivery = { db, mailer, linkSecret, publicUrl: 'http://localhost:3000', mailFrom: 'surveys@rapport.example', now: () => at };
    for (const i of accepted) expect(await deliver(delivery, { kind: 'invitation', roundId: round.roundId, invitationId: i.invitationId })).toBe('sent');
    for (const [i, a] of answers.entries()) await submitResponse(db, accepted[i]!, a.answers, new Date(at.getTime() + 3_600_000));
    return round;
  };
  return { agencyId: agency.agencyId, proId: pro.proId, x: x.campaignId, y: y.campaignId, t0, roundWith };
}

/** The figures report.ts must give for these scores (the statistics are tested in stats.test.ts). */
const responsiveness = (xs: number[]) => {
  const histogram = Object.fromEntries([...new Set(xs)].map((x) => [String(x), xs.filter((y) => y === x).length]));
  const { mean, ci } = meanWithInterval({ n: xs.length, sum: xs.reduce((a, b) => a + b, 0), sumSq: xs.reduce((a, b) => a + b * b, 0) }, { min: 1, max: 5 });
  const { n: _n, ...share } = percentResponsive(histogram);
  return { n: xs.length, mean, ci, percentResponsive: share };
};
const recommend = (xs: number[]) => {
  const histogram = Object.fromEntries([...new Set(xs)].map((x) => [String(x), xs.filter((y) => y === x).length]));
  const { mean, ci } = meanWithInterval({ n: xs.length, sum: xs.reduce((a, b) => a + b, 0), sumSq: xs.reduce((a, b) => a + b * b, 0) }, { min: 0, max: 10 });
  const { n: _n, ...promoters } = nps(histogram);
  return { n: xs.length, mean, ci, nps: promoters };
};

describe('scores from released batches', () => {
  it("before the close show nothing but the deliveries; after it, the round's batch in its month, exactly", async () => {
    const fx = await fixture();
    const round = await fx.roundWith(
      fx.x,
      [
        { audience: 'reporter', answers: { responsiveness: 5, recommend: 9 } },
        { audience: 'reporter', answers: { responsiveness: 4, recommend: 10 } },
        { audience: 'reporter', answers: { responsiveness: 2, recommend: 6 } },
        { audience: 'client', answers: { responsiveness: 3 } },
      ],
      fx.t0,
    );
    const query = { from: '2030-05', to: '2030-05' };
    const nothingReleased = { n: 0, items: {} };
    expect((await proScores(db, fx.agencyId, fx.proId, query, fx.t0)).periods).toEqual([
      { period: '2030-05', delivered: 4, responses: 0, responseRatePercent: 0, total: nothingReleased, audiences: { reporter: nothingReleased, client: nothingReleased } },
    ]);

    await closeRound(db, round.roundId, afterClose(round));
    const report = await proScores(db, fx.agencyId, fx.proId, query, fx.t0);
    // The reporters' batch of 3 is released; the one client waits in the pool.
    const reporters = { n: 3, items: { responsiveness: responsiveness([5, 4, 2]), recommend: recommend([9, 10, 6]) } };
    expect(report).toEqual({
      proId: fx.proId,
      from: '2030-05',
      to: '2030-05',
      granularity: 'month',
      audience: null,
      anonymityThreshold: 3,
      periods: [{ period: '2030-05', delivered: 4, responses: 3, responseRatePercent: 75, total: reporters, audiences: { reporter: reporters, client: nothingReleased } }],
    });
    expect(reporters.items.responsiveness).toMatchObject({ mean: 11 / 3, percentResponsive: { responsive: 2 } });
    expect(reporters.items.recommend.nps).toMatchObject({ promoters: 2, passives: 0, detractors: 1 });
    expect(JSON.stringify(report)).not.toContain('withheld');
  });

  it('count a pooled batch in its release month for the pro and the agency, and in no campaign', async () => {
    const fx = await fixture();
    const first = await fx.roundWith(
      fx.x,
      [
        { audience: 'reporter', answers: { responsiveness: 5 } },
        { audience: 'reporter', answers: { responsiveness: 5 } },
        { audience: 'reporter', answers: { responsiveness: 3 } },
        { audience: 'client', answers: { responsiveness: 1, recommend: 2 } },
        { audience: 'client', answers: { responsiveness: 2, recommend: 3 } },
      ],
      fx.t0,
    );
    await closeRound(db, first.roundId, afterClose(first));
    // A client of another campaign brings the pool to 3, released in June.
    const second = await fx.roundWith(fx.y, [{ audience: 'client', answers: { responsiveness: 4, recommend: 9 } }], new Date('2030-05-20T09:00:00.000Z'));
    const june = new Date('2030-06-10T09:00:00.000Z');
    await closeRound(db, second.roundId, june);

    const reporters = { n: 3, items: { responsiveness: responsiveness([5, 5, 3]) } };
    const clients = { n: 3, items: { responsiveness: responsiveness([1, 2, 4]), recommend: recommend([2, 3, 9]) } };
    const none = { n: 0, items: {} };
    const byMonth = [
      { period: '2030-05', delivered: 6, responses: 3, responseRatePercent: 50, total: reporters, audiences: { reporter: reporters, client: none } },
      { period: '2030-06', delivered: 0, responses: 3, responseRatePercent: null, total: clients, audiences: { client: clients } },
    ];
    const range = { from: '2030-05', to: '2030-06' };
    expect((await proScores(db, fx.agencyId, fx.proId, range, june)).periods).toEqual(byMonth);
    const all = { n: 6, items: { responsiveness: responsiveness([5, 5, 3, 1, 2, 4]), recommend: recommend([2, 3, 9]) } };
    expect((await proScores(db, fx.agencyId, fx.proId, { ...range, granularity: 'total' }, june)).periods).toEqual([
      { period: 'total', delivered: 6, responses: 6, responseRatePercent: 100, total: all, audiences: { reporter: reporters, client: clients } },
    ]);

    const agency = await agencyScores(db, fx.agencyId, range, { limit: 25 }, june);
    expect(agency.periods).toEqual(byMonth);
    expect(agency.pros).toEqual([{ proId: fx.proId, name: 'Jane Doe', ...all }]);
    expect(agency.nextCursor).toBeNull();

    // Campaigns hold their round batches and their deliveries; the pooled clients are in neither.
    const x = await campaignScores(db, fx.agencyId, fx.x);
    expect(x).toEqual({ campaignId: fx.x, proId: fx.proId, anonymityThreshold: 3, delivered: 5, responses: 3, responseRatePercent: 60, total: reporters, audiences: { reporter: reporters, client: none } });
    const y = await campaignScores(db, fx.agencyId, fx.y);
    expect(y).toEqual({ campaignId: fx.y, proId: fx.proId, anonymityThreshold: 3, delivered: 1, responses: 0, responseRatePercent: 0, total: none, audiences: { client: none } });
  });
});
