/**
 * Benchmark: creating a round of 2,000 recipients (the largest allowed), the write behind
 * POST /v1/campaigns/{id}/surveys: suppression and throttle reads, then each invitation written
 * with its recipient's throttle state under one condition.
 */
import { cancelRound, createAgency, createCampaign, createPro, createRound } from '@rapport/core';
import { createDeps, type Deps } from '@rapport/functions';
import type { Figure } from './figures';

/** Creating and cancelling rounds of 100 and 2,000; cancelling 2,000 no slower than creating them. */
export async function benchRounds(config: Deps['config'], log: (line: string) => void): Promise<Figure[]> {
  // Nothing is sent: the rounds are cancelled before any email would go out.
  const deps = createDeps(config, { queue: { enqueue: async () => undefined } });
  const now = new Date();
  const agency = await createAgency(deps.db, { name: 'Bench rounds' }, now);
  const pro = await createPro(deps.db, agency.agencyId, { name: 'Jane', email: 'jane@bench-rounds.example' }, now);
  const campaign = await createCampaign(deps.db, agency.agencyId, { proId: pro.proId, name: 'Launch' }, now);
  const results = [];
  // The first 2,000 warms DynamoDB Local up; the second is the figure.
  for (const [run, size] of [100, 2000, 2000].entries()) {
    const recipients = Array.from({ length: size }, (_, i) => ({ email: `r${i}-run${run}@bench-rounds.example`, audience: 'reporter' }));
    const t0 = performance.now();
    const { round, accepted } = await createRound(deps.db, agency.agencyId, campaign.campaignId, { recipients }, now);
    const ms = performance.now() - t0;
    if (accepted.length !== size) throw new Error(`expected ${size} accepted, got ${accepted.length}`);
    // Cancelling before anything is sent: every invitation skipped, every throttle given back.
    const t1 = performance.now();
    const cancelled = await cancelRound(deps.db, agency.agencyId, round.roundId);
    const cancelMs = performance.now() - t1;
    if (cancelled.counts.skipped !== size) throw new Error(`expected ${size} skipped, got ${cancelled.counts.skipped}`);
    log(`round of ${size}: ${(ms / 1000).toFixed(2)} s, cancelled in ${(cancelMs / 1000).toFixed(2)} s`);
    results.push({ size, ms, cancelMs });
  }
  deps.db.client.destroy();
  const [hundred, , large] = results as [(typeof results)[number], unknown, (typeof results)[number]];
  const scenario = 'rounds';
  return [
    { scenario, name: 'create a round of 100', value: hundred.ms / 1000, unit: 's' },
    { scenario, name: 'create a round of 2,000', value: large.ms / 1000, unit: 's', floor: { name: '100 recipients', value: hundred.ms / 1000 }, ratio: large.ms / hundred.ms, note: 'ratio for 20× the recipients' },
    { scenario, name: 'cancel a round of 100 before sending', value: hundred.cancelMs / 1000, unit: 's' },
    {
      scenario,
      name: 'cancel a round of 2,000 before sending',
      value: large.cancelMs / 1000,
      unit: 's',
      floor: { name: 'creating it', value: large.ms / 1000 },
      ratio: large.cancelMs / large.ms,
      budget: { on: 'ratio', max: 1 },
    },
  ];
}
