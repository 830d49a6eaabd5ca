/**
 * The demo agency (`npm run demo`, i.e. `npm start -- --demo`): a year of campaigns, survey
 * rounds, answers, releases, commitments, early warnings and the last month's summaries, all
 * through the real write paths — the same calls the API, the survey page, the send worker and the
 * jobs make — on a moved clock. It runs inside `npm start`, before its scheduled job starts: a
 * process beside it would race that job, which closes any round whose time is up (all of the
 * year's) the minute it sees one. Deterministic: a seeded generator picks every score and
 * comment, and the moments follow from `now`.
 */
import {
  addDays,
  AUDIENCE_DIMENSIONS,
  closeRound,
  createAgency,
  createApiKey,
  createCampaign,
  createMember,
  createPro,
  createRound,
  listTestimonials,
  needsEarlyWarning,
  periodOf,
  recordCommitment,
  submitResponse,
  updateSettings,
  type Audience,
  type Config,
  type Invitation,
  type Round,
  type SendJob,
} from '@rapport/core';
import { createDeps, inProcessSendQueue, type Deps } from '@rapport/functions';
import { AGENCY, CAMPAIGN_KINDS, clientDomain, COMMENTS, FIRST_NAMES, LAST_NAMES, outletDomain, PROS, type DemoPro } from './demo-data';

/** The months seeded: the twelve before `now`'s month. */
export const DEMO_MONTHS = 12;
/** The month (0 = oldest) from which the agency emails pros at once about a low answer: the last one. */
const EARLY_WARNINGS_FROM = 11;
/** Months with a named client check-in (the respondents are told their name is shared). */
const NAMED_MONTHS = new Set([2, 5, 8, 11]);
/** How likely each audience is to answer. */
const ANSWER_RATE: Record<Audience, number> = { reporter: 0.75, colleague: 0.8, client: 0.75 };
/** How each audience rates a pro against the pro's month: reporters are the hardest to please. */
const AUDIENCE_OFFSET: Record<Audience, number> = { reporter: -0.15, colleague: 0.2, client: 0.1 };

export interface DemoResult {
  agencyId: string;
  agencyName: string;
  apiKey: string;
  /** The admin member, who signs in to the console with this address. */
  admin: { name: string; email: string };
  /** Each pro signs in to the console with their address. */
  pros: { proId: string; name: string; email: string }[];
  /** The months seeded, oldest first, and the one whose summaries were sent. */
  months: string[];
  summaryPeriod: string;
  rounds: number;
  invitations: number;
  answers: number;
  earlyWarnings: number;
  summaries: number;
  testimonials: number;
  /** A round still open now, whose emails in the inbox can be answered by hand. */
  openRound: { roundId: string; pro: string; campaign: string };
}

/** mulberry32: small, fast and the same on every machine. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  return { next, gauss, pick };
}
type Rng = ReturnType<typeof generator>;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(x)));

/** A person answering as the pro's month suggests: scores that agree with each other, a comment sometimes. */
function answersFor(rng: Rng, pro: DemoPro, audience: Audience, mean: number) {
  const responsiveness = clamp(mean + AUDIENCE_OFFSET[audience] + rng.gauss() * 0.75, 1, 5);
  const recommend = clamp(responsiveness * 2 + rng.gauss() * 1.1, 0, 10);
  const dimensions = Object.fromEntries(
    AUDIENCE_DIMENSIONS[audience].filter(() => rng.next() < 0.97).map((d) => [d, clamp(responsiveness + (d === pro.weakest ? -1 : 0.15) + rng.gauss() * 0.6, 1, 5)]),
  );
  const mood = responsiveness >= 4 ? 'praise' : 'improve';
  const improve = rng.next() < 0.45 ? rng.pick(COMMENTS[audience][mood]) : undefined;
  const quoteConsent = improve !== undefined && mood === 'praise' && recommend >= 9 && rng.next() < 0.7;
  return { responsiveness, recommend, ...dimensions, ...(improve ? { improve } : {}), quoteConsent };
}

/** The months before `now`'s, oldest first, in the agency's time zone. */
function monthsBefore(now: Date, count: number): string[] {
  const [year, month] = periodOf(now, AGENCY.timezone).split('-').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(year, month - 1 - count + i, 1));
    return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  });
}

export async function seedDemo(config: Config, now: Date, log: (line: string) => void = () => {}): Promise<DemoResult> {
  const rng = generator(20261206);
  // The system's clock, moved through the year: the worker stamps sends and warnings with it.
  let clock = now;
  const sent = { summaries: 0, earlyWarnings: 0 };
  const queue = inProcessSendQueue(() => deps, { concurrency: 8 }, (job, outcome) => {
    if (outcome !== 'sent') return;
    if (job.kind === 'summary' || job.kind === 'agency-summary') sent.summaries++;
    if (job.kind === 'early-warning') sent.earlyWarnings++;
  });
  // The local SES server takes any rate: the year's few hundred emails need no pacing.
  const deps: Deps = createDeps({ ...config, sendRatePerSecond: 1000 }, { queue, now: () => clock });
  const { db } = deps;
  const months = monthsBefore(now, DEMO_MONTHS);
  const start = new Date(`${months[0]}-01T09:00:00Z`);

  // Everyone surveyed is someone new: no address meets the agency's throttle.
  const people = FIRST_NAMES.flatMap((first) => LAST_NAMES.map((last) => ({ first, last })));
  for (let i = people.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [people[i], people[j]] = [people[j]!, people[i]!];
  }
  let nextPerson = 0;
  const person = (domain: string) => {
    const { first, last } = people[nextPerson++ % people.length]!;
    return { name: `${first} ${last}`, email: `${first}.${last}@${domain}`.toLowerCase() };
  };

  const agency = await createAgency(db, { name: AGENCY.name, timezone: AGENCY.timezone }, start);
  const { secret: apiKey } = await createApiKey(db, agency.agencyId, { role: 'admin', name: 'demo' }, start);
  // A small agency's k: groups of three answers are shown.
  await updateSettings(db, agency.agencyId, { anonymityThreshold: AGENCY.anonymityThreshold, summary: { cadence: 'monthly', dayOfMonth: 1, hour: 9, adminEmails: [AGENCY.admin] } }, start);
  const pros = await Promise.all(PROS.map((p) => createPro(db, agency.agencyId, { name: p.name, email: p.email }, start)));
  const admin = await createMember(db, agency.agencyId, { name: AGENCY.adminName, email: AGENCY.admin, role: 'admin' }, start);

  let rounds = 0;
  let invitations = 0;
  let answers = 0;
  const deliver = async (created: { round: Round; accepted: Invitation[] }[], at: Date) => {
    clock = at;
    rounds += created.length;
    const jobs: SendJob[] = created.flatMap(({ round, accepted }) => accepted.map((i) => ({ kind: 'invitation' as const, roundId: round.roundId, invitationId: i.invitationId })));
    invitations += jobs.length;
    await queue.enqueue(jobs);
    await queue.drain();
  };

  for (const [m, month] of months.entries()) {
    const monthStart = new Date(`${month}-01T08:00:00Z`);
    if (m === EARLY_WARNINGS_FROM) await updateSettings(db, agency.agencyId, { earlyWarnings: true }, monthStart);
    const commitments = PROS.flatMap((p, i) => (p.commitment?.month === m ? [recordCommitment(db, agency.agencyId, pros[i]!.proId, { text: p.commitment.text }, monthStart)] : []));
    await Promise.all(commitments);

    // Each pro's campaign of the month, surveyed on the 3rd: reporters, colleagues and a client or two.
    const sendAt = new Date(`${month}-03T09:00:00Z`);
    const plans = PROS.map((p, i) => {
      const client = p.clients[m % 2]!;
      const recipients = [
        ...Array.from({ length: 5 + (rng.next() < 0.5 ? 1 : 0) + (rng.next() < 0.3 ? 1 : 0) }, () => {
          const outlet = rng.pick(p.outlets);
          return { ...person(outletDomain(outlet)), audience: 'reporter' as const, outlet };
        }),
        ...Array.from({ length: 1 + (rng.next() < 0.6 ? 1 : 0) }, () => ({ ...person(AGENCY.domain), audience: 'colleague' as const })),
        ...Array.from({ length: 1 + (rng.next() < 0.5 ? 1 : 0) }, () => ({ ...person(clientDomain(client)), audience: 'client' as const })),
      ];
      const named = NAMED_MONTHS.has(m)
        ? Array.from({ length: 3 }, () => ({ ...person(clientDomain(p.clients[0])), audience: 'client' as const }))
        : null;
      return { pro: p, proId: pros[i]!.proId, client, kind: CAMPAIGN_KINDS[(m + i * 5) % CAMPAIGN_KINDS.length]!, recipients, named };
    });
    const created = await Promise.all(
      plans.map(async (plan) => {
        const campaign = await createCampaign(db, agency.agencyId, { proId: plan.proId, name: `${plan.client}: ${plan.kind}`, tags: [plan.kind.split(' ').at(-1)!] }, sendAt);
        const rounds = [{ ...(await createRound(db, agency.agencyId, campaign.campaignId, { recipients: plan.recipients }, sendAt)), plan }];
        if (plan.named) {
          const checkIn = await createCampaign(db, agency.agencyId, { proId: plan.proId, name: `${plan.pro.clients[0]}: quarterly check-in`, tags: ['check-in'] }, sendAt);
          rounds.push({ ...(await createRound(db, agency.agencyId, checkIn.campaignId, { recipients: plan.named, attribution: 'named' }, sendAt)), plan });
        }
        return rounds;
      }),
    );
    const all = created.flat();
    await deliver(all, new Date(sendAt.getTime() + 5 * 60_000));

    // The answers come in over the next nine days, each as the survey page would store it. Drawn
    // before any write, so that the order the writes finish in changes nothing.
    const drawn = all.map(({ round, accepted, plan }) => ({
      round,
      answered: accepted.flatMap((invitation) => {
        const rate = round.attribution === 'named' ? 0.9 : ANSWER_RATE[invitation.audience];
        const given = answersFor(rng, plan.pro, invitation.audience, plan.pro.arc[m]!);
        const at = addDays(sendAt, 1 + rng.next() * 8);
        return rng.next() < rate ? [{ invitation, given, at }] : [];
      }),
    }));
    clock = addDays(sendAt, 5);
    const warnings: SendJob[] = [];
    await Promise.all(
      drawn.map(async ({ round, answered }) => {
        for (const { invitation, given, at } of answered) {
          await submitResponse(db, invitation, given, at);
          answers++;
          if (round.earlyWarnings && needsEarlyWarning(given)) warnings.push({ kind: 'early-warning', roundId: round.roundId, invitationId: invitation.invitationId });
        }
      }),
    );
    await queue.enqueue(warnings);
    await queue.drain();

    // Each round closes when its time is up, releasing its answers in batches of at least k (each
    // pro's in order: a small group waits in the pro's pool for the next).
    await Promise.all(
      pros.map(async (pro) => {
        for (const { round } of all.filter((r) => r.round.proId === pro.proId)) await closeRound(db, round.roundId, new Date(Date.parse(round.closesAt) + 3_600_000));
      }),
    );
    log(`Demo: ${month} seeded (${all.length} rounds; ${answers} answers so far).`);
  }

  // One round still open today, so its emails in the inbox can be answered by hand.
  const maya = PROS[0]!;
  const live = await createCampaign(db, agency.agencyId, { proId: pros[0]!.proId, name: `${maya.clients[0]}: winter launch`, tags: ['launch'] }, now);
  const open = await createRound(
    db,
    agency.agencyId,
    live.campaignId,
    {
      recipients: Array.from({ length: 6 }, () => {
        const outlet = rng.pick(maya.outlets);
        return { ...person(outletDomain(outlet)), audience: 'reporter' as const, outlet };
      }),
    },
    now,
  );
  await deliver([open], now);

  // Last month's summaries, as the monthly slot sends them: one per pro, and the agency's to its admin.
  clock = now;
  const summaryPeriod = months.at(-1)!;
  await queue.enqueue([{ kind: 'summaries', agencyId: agency.agencyId, period: summaryPeriod }]);
  await queue.drain();
  await queue.stop();
  const testimonials = await listTestimonials(db, agency.agencyId, {}, { limit: 100 });
  db.client.destroy();

  return {
    agencyId: agency.agencyId,
    agencyName: agency.name,
    apiKey,
    admin: { name: admin.name, email: admin.email },
    pros: pros.map((p) => ({ proId: p.proId, name: p.name, email: p.email })),
    months,
    summaryPeriod,
    rounds,
    invitations,
    answers,
    earlyWarnings: sent.earlyWarnings,
    summaries: sent.summaries,
    testimonials: testimonials.items.length,
    openRound: { roundId: open.round.roundId, pro: maya.name, campaign: live.name },
  };
}

/** What to look at next, printed under `npm start`'s banner. */
export function demoGuide(result: DemoResult, urls: { api: string; inbox: string }): string {
  const auth = `-H "Authorization: Bearer ${result.apiKey}"`;
  const [first] = result.pros;
  return [
    '',
    `Demo: ${result.agencyName}, ${result.pros.length} pros, ${result.rounds} survey rounds, ${result.invitations} invitations and ${result.answers} answers from ${result.months[0]} to ${result.months.at(-1)}.`,
    `The console: open ${urls.api}/login and sign in as ${result.admin.email} (${result.admin.name}, the admin: the team, every pro, settings)`,
    `  or as ${first!.email} (${first!.name}, a pro: her own results and rounds). The sign-in link is in the inbox at ${urls.inbox}`,
    `Its admin API key (shown once): ${result.apiKey}`,
    '  The team month by month, and each pro over the year:',
    `    curl -s "${urls.api}/v1/scores" ${auth}`,
    `  ${first!.name}'s months, and her summary of ${result.summaryPeriod} as data and as the email:`,
    `    curl -s "${urls.api}/v1/pros/${first!.proId}/scores?granularity=month" ${auth}`,
    `    curl -s "${urls.api}/v1/pros/${first!.proId}/summary?period=${result.summaryPeriod}" ${auth}`,
    `  ${result.testimonials} comments people agreed may be quoted, and the released answers:`,
    `    curl -s "${urls.api}/v1/testimonials" ${auth}`,
    `    curl -s "${urls.api}/v1/responses?limit=5" ${auth}`,
    `  The inbox, newest first: ${result.summaries} summaries of ${result.summaryPeriod}, ${result.earlyWarnings} early warnings, and every survey email:`,
    `    ${urls.inbox}`,
    `  ${result.openRound.pro}'s "${result.openRound.campaign}" survey is still open: answer it from one of its emails.`,
  ].join('\n');
}
