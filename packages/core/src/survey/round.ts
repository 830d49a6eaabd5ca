import { END_LOOKS } from '../sending/lease';
import * as v from 'valibot';
import { maxChars } from '../shared/schemas';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { setClauses, withoutKeys } from '../db/items';
import { batchGet, batchPut, insertAbsent, itemKey, mapConcurrent, STATEMENT_LIMIT } from '../db/batch';
import { failedConditions, isConditionFailed, isTransactionConflict } from '../db/conditions';
import { queryAll, queryPrefix, roundInvitationsQuery, type PageRequest } from '../db/page';
import { updateIfUnchanged, type TransactItems } from '../db/transact';
import { percent } from '../scores/stats';
import { openRoundWrites } from '../scores/open-rounds';
import { LEASE_MS, leaseUntil } from '../sending/deliver';
import { CREATION_WINDOW_MS, touchRoundWork } from '../sending/lease';
import { transitionMany } from '../sending/transition';
import { getAgency, type Agency } from '../agency/agency';
import { defaultSettings } from '../agency/settings';
import { getCampaign } from '../campaign/campaign';
import { getPro } from '../pro/pro';
import { ConflictError, NotFoundError } from '../shared/errors';
import { giveThrottleBack, isOpen, roundById, storedRound, throttleRestore } from './round-state';
import { hashedId, isId, newId } from '../shared/ids';
import { fingerprint } from '../shared/hash';
import { addDays, iso, periodOf } from '../shared/time';
import { parseInput } from '../shared/validate';
import { AUDIENCES, type Audience } from './instrument';
import { addressHash, isValidAddress, mailboxOf, normalizeAddress } from './address';
import { skipSuppressedInvitations } from './suppression';
import { ERASED_EMAIL, eraseSkipped } from '../rights/forget';
import { splitHeldAnswer } from './held-answer';

type TransactItem = TransactItems[number];

export { giveThrottleBack, isOpen, roundById };

export const MAX_RECIPIENTS = 2000;
/** Recipients written at once one by one (each two single-item writes): the pace `bench/rounds.ts` measures cancelling against. */
const WRITES_AT_ONCE = 32;
/** Batches of new addresses written at once by a creation (each two calls of up to 25 writes). */
const BATCHES_AT_ONCE = 4;

const optionalText = (max: number) => v.optional(v.pipe(v.string(), maxChars(max), v.trim()));

export const RecipientSchema = v.object({
  // Checked per recipient, not here: an invalid address is skipped with its reason, not a 400.
  email: v.pipe(v.string(), maxChars(320)),
  name: optionalText(200),
  audience: v.picklist(AUDIENCES, 'must be reporter, colleague or client'),
  outlet: optionalText(200),
});

export const RoundInputSchema = v.object({
  recipients: v.pipe(
    v.array(RecipientSchema),
    v.minLength(1, 'must list at least one recipient'),
    v.maxLength(MAX_RECIPIENTS, `must list at most ${MAX_RECIPIENTS} recipients`),
  ),
  attribution: v.optional(
    v.pipe(v.picklist(['anonymous', 'named']), v.description('`named` shares the respondent\'s name with the pro; the survey page says so.')),
    'anonymous',
  ),
});

export type RoundInput = v.InferOutput<typeof RoundInputSchema>;

/** `erased`: the agency erased the address's data at the person's request (`eraseAddress`), and surveys it no more. */
export const SKIP_REASONS = ['invalid', 'duplicate', 'unsubscribed', 'bounced', 'complained', 'erased', 'throttled'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const INVITATION_STATUSES = ['pending', 'sending', 'sent', 'responded', 'bounced', 'failed', 'expired', 'skipped'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];
export type StatusCounts = Record<InvitationStatus, number>;

export interface Round {
  roundId: string;
  agencyId: string;
  campaignId: string;
  campaignName: string;
  proId: string;
  proName: string;
  proEmail: string;
  /** The agency's name when the round began: its emails' From name when the pro's is unusable. Absent on older rounds. */
  agencyName?: string;
  attribution: 'anonymous' | 'named';
  status: 'open' | 'cancelled' | 'closed';
  /** The pro's commitment when the round began: its emails and pages show it. */
  commitment: { text: string; since: string } | null;
  /** Whether the agency wanted early warnings when the round began: the survey page says so. */
  earlyWarnings: boolean;
  /**
   * The anonymity threshold when the round began: the survey page promises it, so its answers are
   * released under at least this k even if the setting is lowered before the close. Absent on
   * rounds created before the snapshot existed.
   */
  anonymityThreshold?: number;
  /** The month (`YYYY-MM`, agency time zone) the round began: its answers count in that month's scores. */
  period: string;
  /** Days after its invitation that each reminder is due, per audience: the agency's settings when the round began. */
  reminderDays: Record<Audience, number[]>;
  createdAt: string;
  closesAt: string;
  closedAt?: string;
  /** When a cancel or a close began: its sends are stopping, and no invitation goes back to pending. */
  closing?: string;
  /** When its pro was erased: the copies of their name and address are blanked, and it sends nothing more. */
  proErasedAt?: string;
  /** Made with an Idempotency-Key: its request's fingerprint, so the key with another request cannot resume it. */
  requestFingerprint?: string;
  /** Its deliveries are tallied from its invitations while it is open (`scores/open-rounds.ts`); absent on rounds from before. */
  tallyDelivered?: true;
}

/**
 * A round's progress, tallied from its invitations when read (nothing counts them on the round
 * item, which every send and answer would otherwise write): invitations per status, and the
 * answered ones per the status they had when answered (`answeredFrom`), which is how an anonymous
 * round shows them (`deliveryCounts`).
 */
export interface RoundProgress {
  counts: StatusCounts;
  answeredFrom: StatusCounts;
}

export type RoundWithProgress = Round & RoundProgress;

export interface Invitation {
  invitationId: string;
  roundId: string;
  agencyId: string;
  email: string;
  name: string | null;
  audience: Audience;
  outlet: string | null;
  status: InvitationStatus;
  createdAt: string;
  sentAt: string | null;
  respondedAt: string | null;
  remindersSent: number;
  /**
   * The recipient's throttle dates before this round took them (null: none), so cancelling the
   * round before the email goes out can give the address back.
   */
  throttleBefore?: { lastAny: string | null; audience: string | null };
  /** The SES message id of the first email, once sent: bounces name it. */
  messageId?: string;
  /** Its status when first answered: what an anonymous round's list shows instead of `responded`. */
  answeredFrom?: InvitationStatus;
  /** Why it ended `failed`: the code of SES's permanent refusal. */
  failure?: string;
  /** Times SES did not take its first email (throttled, unreachable) and it went back to pending. */
  retries?: number;
  /** Times its round's check queued it again (its job lost, or slow behind a backlog). */
  requeues?: number;
  /** Times its round's check queued its due reminder again (late or lost); 0 again once one is planned. */
  reminderQueues?: number;
  /** While a reminder is being sent: the time it was due (see `deliverReminder`). */
  reminderSending?: string;
  /** The SES message id of the last reminder the worker saw SES take (see `recordSendEvent`). */
  reminderMessageId?: string;
  /** Times SES did not take a reminder, which was then due again. */
  reminderRetries?: number;
  /** The last such refusal's code and time. */
  lastFailure?: string;
  lastFailureAt?: string;
  /** When the next reminder is due; null when none is (responded, all sent, or the round closes first). */
  nextReminderAt: string | null;
  /**
   * The recipient had answered a named survey about this pro when this round began: only they are
   * told "last time you told us…" beside the pro's commitment. Anonymous answers do not count: the
   * sentence, in an email quoted in a reply or on the page of a forwarded link, would tell the pro who took part.
   */
  returning?: boolean;
  /** When its recipient's name, address and outlet were erased (`eraseAddress`, or the retention pass): `email` is then `''`. */
  erasedAt?: string;
  /**
   * When a suppression of its address was written while it was being sent (`enforceSuppression`):
   * if SES did not take that email, its next claim skips it instead of sending.
   */
  suppressedAt?: string;
}

export interface Skipped {
  index: number;
  email: string;
  reason: SkipReason;
  /** When `throttled`: the time the address may be surveyed again (absent when another round took it meanwhile). */
  until?: string;
}

/**
 * The k a round's survey page promises: the agency's when the round began (rounds from before
 * that snapshot promised the default). Its answers are released under this or the agency's k at
 * the close, whichever is higher.
 */
export const promisedThreshold = (round: Pick<Round, 'anonymityThreshold'>): number => round.anonymityThreshold ?? defaultSettings().anonymityThreshold;

const zeroCounts = (): StatusCounts => Object.fromEntries(INVITATION_STATUSES.map((s) => [s, 0])) as StatusCounts;

const throttleDays = (agency: Agency, audience: Audience) => agency.throttle[`${audience}Days`];

type Recipient = RoundInput['recipients'][number];
interface Candidate {
  index: number;
  recipient: Recipient;
  hash: string;
}

/** A recipient's throttle dates as a round reads them: the last survey of any audience, and of the recipient's. */
interface ThrottleDates {
  lastAny: string | null;
  audience: string | null;
}

/** A recipient a round may take, and how its reservation's condition will hold. */
interface Eligible extends Candidate {
  /** The dates before this round: what its invitation keeps, and a cancel gives back. */
  before: ThrottleDates;
  /**
   * An orphaned reservation this round takes over (see `heldReservation`), as it was read, with
   * its audience's date from before it (put back, when it is another audience); null otherwise.
   */
  orphan: { roundId: string; heldAt: string; audience: { name: Audience; before: string | null } } | null;
}

/**
 * The reservation a recipient's state holds: the round whose creation last took the address
 * (`heldBy`), when it wrote that (`heldAt`), and the dates it replaced (`heldBefore`). A creation
 * writes the reservation, then the invitation (two writes, not one transaction); one that died
 * between leaves a reservation without an invitation. Its round's retry with the
 * Idempotency-Key finds it its own; once the creation window is over, any round finds it orphaned
 * (no invitation in the round it names) and reads the dates from before it.
 */
function heldReservation(state: Record<string, unknown> | undefined, audience: Audience) {
  if (state?.heldBy === undefined) return undefined;
  const before = (state.heldBefore ?? {}) as Record<string, string | null | undefined>;
  // The audience the reservation was for kept its date there; any other is as the state has it.
  const heldAudience = Object.keys(before).find((name) => name !== 'lastAny') as Audience;
  return {
    roundId: state.heldBy as string,
    heldAt: state.heldAt as string,
    /** The reservation's audience, and the date it had before. */
    audience: { name: heldAudience, before: before[heldAudience] ?? null },
    /** The recipient's dates (for `audience`) as they were before the reservation. */
    before: { lastAny: before.lastAny ?? null, audience: audience === heldAudience ? (before[heldAudience] ?? null) : ((state[audience] as string | undefined) ?? null) },
  };
}

/** A round's invitation of an address: its id follows from the round and the address hash (until an erasure moves it). */
const invitationKeyOf = (roundId: string, hash: string) => keys.invitation(roundId, hashedId('inv', roundId, hash));

const datesOf = (state: Record<string, unknown> | undefined, audience: Audience): ThrottleDates => ({
  lastAny: (state?.lastAny as string | undefined) ?? null,
  audience: (state?.[audience] as string | undefined) ?? null,
});

/**
 * Sorts a round's recipients as of `at`: `invalid` and `duplicate` (a mailbox already in the
 * request) from the request itself, then, from the stored state, `unsubscribed`, `bounced` or `complained` (suppressed, here or for every
 * agency) and `throttled` (surveyed too recently, with the date it may be again). With
 * `resuming` (a round being resumed), a recipient whose invitation is already written is
 * accepted as it is, and one the round reserved is its own. A reservation orphaned before `now`
 * less the creation window counts as the dates it replaced. Reads only: round creation and its preview share it.
 */
async function sortRecipients(db: Db, agency: Agency, recipients: Recipient[], at: Date, now: Date, resuming?: { roundId: string }) {
  const { agencyId } = agency;
  const skipped: Skipped[] = [];
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  recipients.forEach((recipient, index) => {
    const email = recipient.email.trim();
    if (!isValidAddress(email)) return skipped.push({ index, email, reason: 'invalid' });
    // One invitation per mailbox: aliases of one person (`+tags`, Gmail's dots) would count as
    // several toward k, and an early warning or a batch could then be one person's answers alone.
    const mailbox = mailboxOf(email);
    if (seen.has(mailbox)) return skipped.push({ index, email, reason: 'duplicate' });
    seen.add(mailbox);
    candidates.push({ index, recipient: { ...recipient, email }, hash: addressHash(email) });
  });

  const states = await batchGet(db, [
    ...candidates.flatMap(({ hash }) => [keys.globalSuppression(hash), keys.agencySuppression(hash, agencyId), keys.recipientState(agencyId, hash)]),
    ...(resuming ? candidates.map(({ hash }) => invitationKeyOf(resuming.roundId, hash)) : []),
  ]);
  const minHours = agency.throttle.minHoursBetweenSurveys;
  const anyCutoff = iso(new Date(at.getTime() - minHours * 3_600_000));
  const audienceCutoff = (audience: Audience) => iso(addDays(at, -throttleDays(agency, audience)));
  /** Each window that is not over yet, as the time it ends. */
  const windowsOf = (dates: ThrottleDates, audience: Audience) => [
    ...(dates.lastAny !== null && dates.lastAny >= anyCutoff ? [iso(new Date(new Date(dates.lastAny).getTime() + minHours * 3_600_000))] : []),
    ...(dates.audience !== null && dates.audience >= audienceCutoff(audience) ? [iso(addDays(new Date(dates.audience), throttleDays(agency, audience)))] : []),
  ];
  const throttled = ({ index, recipient }: Candidate, windows: string[]) => skipped.push({ index, email: recipient.email, reason: 'throttled', until: windows.sort().at(-1)! });

  /** By the recipient's index in the request. */
  const accepted = new Map<number, Invitation>();
  const eligible: Eligible[] = [];
  /** Held by another round's reservation old enough to be orphaned, whose dates still throttle: its round's invitation of the address decides. */
  const suspects: { candidate: Candidate; held: NonNullable<ReturnType<typeof heldReservation>>; dates: ThrottleDates; windows: string[] }[] = [];
  for (const candidate of candidates) {
    const { index, recipient, hash } = candidate;
    const written = resuming && states.get(itemKey(invitationKeyOf(resuming.roundId, hash)));
    if (written) {
      accepted.set(index, withoutKeys<Invitation>(written));
      continue;
    }
    const suppression = states.get(itemKey(keys.globalSuppression(hash))) ?? states.get(itemKey(keys.agencySuppression(hash, agencyId)));
    if (suppression) {
      // An erased address is not written down again, not even as skipped: its index says which it was.
      const reason = suppression.reason as SkipReason;
      skipped.push({ index, email: reason === 'erased' ? '' : recipient.email, reason });
      continue;
    }
    const state = states.get(itemKey(keys.recipientState(agencyId, hash)));
    const held = heldReservation(state, recipient.audience);
    // This round's own reservation, from an attempt that died before the invitation.
    if (resuming && held?.roundId === resuming.roundId) {
      eligible.push({ ...candidate, before: held.before, orphan: null });
      continue;
    }
    const dates = datesOf(state, recipient.audience);
    const windows = windowsOf(dates, recipient.audience);
    // Another round's reservation, past the creation window, whose dates still throttle (this
    // audience, or its own): if it is orphaned, they are not the recipient's.
    const stillThrottles = held && (windows.length > 0 || windowsOf(datesOf(state, held.audience.name), held.audience.name).length > 0);
    if (held && stillThrottles && Date.parse(held.heldAt) + CREATION_WINDOW_MS <= now.getTime()) suspects.push({ candidate, held, dates, windows });
    else if (windows.length === 0) eligible.push({ ...candidate, before: dates, orphan: null });
    else throttled(candidate, windows);
  }
  const invited = await batchGet(db, suspects.map(({ candidate, held }) => invitationKeyOf(held.roundId, candidate.hash)));
  for (const { candidate, held, dates, windows } of suspects) {
    if (invited.has(itemKey(invitationKeyOf(held.roundId, candidate.hash)))) {
      if (windows.length > 0) throttled(candidate, windows);
      else eligible.push({ ...candidate, before: dates, orphan: null });
      continue;
    }
    // Orphaned: the address is as it was before that reservation.
    const before = windowsOf(held.before, candidate.recipient.audience);
    if (before.length > 0) throttled(candidate, before);
    else eligible.push({ ...candidate, before: held.before, orphan: { roundId: held.roundId, heldAt: held.heldAt, audience: held.audience } });
  }
  eligible.sort((a, b) => a.index - b.index);
  return { eligible, skipped, states, accepted, anyCutoff, audienceCutoff };
}

export interface RoundPreview {
  /** The recipients a round created now would take, in the order of the request. */
  accepted: (Recipient & { index: number })[];
  /** Every recipient it would skip, with the reason, in the order of the request. */
  skipped: Skipped[];
}

/**
 * What `createRound` would do with this request now, without writing anything: the same
 * validation and the same sorting. A round created later may still skip more (an address
 * surveyed or suppressed meanwhile), never fewer.
 */
export async function previewRound(db: Db, agencyId: string, campaignId: string, input: unknown, now: Date): Promise<RoundPreview> {
  const { recipients } = parseInput(RoundInputSchema, input);
  await getCampaign(db, agencyId, campaignId);
  const { eligible, skipped } = await sortRecipients(db, await getAgency(db, agencyId), recipients, now, now);
  return { accepted: eligible.map(({ index, recipient }) => ({ index, ...recipient })), skipped: skipped.sort((a, b) => a.index - b.index) };
}

export interface RoundCreation {
  round: RoundWithProgress;
  /** Its invitations, in the order of the request. */
  accepted: Invitation[];
  /** Every recipient skipped, in the order of the request; also stored, for `listSkipped`. */
  skipped: Skipped[];
}

/**
 * Creates a survey round for a campaign: sorts the recipients into accepted and skipped (with the
 * reason), then, for each accepted one, reserves the address in its throttle state (the throttle
 * condition is checked in that write, so two rounds racing for one address cannot both take it)
 * and writes its invitation.
 *
 * With an `idempotencyKey` the round's id follows from the agency and the key, and each
 * invitation's from the round and the address, so a retry after a failure part-way resumes the
 * round: it keeps the round as first written, takes the invitations already there as accepted
 * (their throttle slots are this round's, not `throttled`), and writes only what is missing, its
 * own reservations included. Each invitation is written only if absent, so overlapping attempts
 * never write one twice. Without a key a failure leaves a smaller round that is open and
 * consistent: the invitations it has are `pending` and counted, so the scheduled job sends them;
 * an address it reserved without writing the invitation is free again after the creation window.
 */
export async function createRound(
  db: Db,
  agencyId: string,
  campaignId: string,
  input: unknown,
  now: Date,
  { idempotencyKey }: { idempotencyKey?: string | undefined } = {},
): Promise<RoundCreation> {
  const request = parseInput(RoundInputSchema, input);
  const { recipients, attribution } = request;
  const campaign = await getCampaign(db, agencyId, campaignId);
  const [pro, agency] = await Promise.all([getPro(db, agencyId, campaign.proId), getAgency(db, agencyId)]);
  if (pro.deactivatedAt) throw new ConflictError('The campaign’s pro is deactivated: reactivate them to send a round');

  const newRound = (roundId: string): Round => ({
    roundId,
    agencyId,
    campaignId,
    campaignName: campaign.name,
    proId: pro.proId,
    proName: pro.name,
    proEmail: pro.email,
    agencyName: agency.name,
    attribution,
    status: 'open',
    commitment: pro.commitment ?? null,
    earlyWarnings: agency.earlyWarnings,
    anonymityThreshold: agency.anonymityThreshold,
    period: periodOf(now, agency.timezone),
    reminderDays: { reporter: agency.reminders.reporterDays, colleague: agency.reminders.colleagueDays, client: agency.reminders.clientDays },
    createdAt: iso(now),
    closesAt: iso(addDays(now, agency.surveyExpiryDays)),
    tallyDelivered: true,
  });
  let round: Round;
  let resumed = false;
  if (idempotencyKey === undefined) {
    round = newRound(newId('rnd'));
  } else {
    const roundId = hashedId('rnd', agencyId, idempotencyKey);
    const requestFingerprint = fingerprint(campaignId, JSON.stringify(request));
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId), ConsistentRead: true }));
    // The key's record is kept a day; after that the round itself tells the key's request apart.
    if (Item && (Item.agencyId !== agencyId || Item.requestFingerprint !== requestFingerprint)) {
      throw new ConflictError('This Idempotency-Key began another survey round: use a new key for a new round');
    }
    resumed = Item !== undefined;
    round = Item ? withoutKeys<Round>(Item) : { ...newRound(roundId), requestFingerprint };
  }
  if (!resumed) {
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: db.table,
                Item: {
                  ...keys.round(round.roundId),
                  ...keys.roundCloseDue(round.roundId, round.closesAt),
                  ...keys.roundByCampaign(agencyId, campaignId, round.createdAt, round.roundId),
                  type: 'round',
                  ...round,
                },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            // The agency's list of rounds by creation, which the retention pass walks (keys.ts 45).
            { Put: { TableName: db.table, Item: { ...keys.agencyRound(agencyId, round.createdAt, round.roundId), type: 'agencyRound', roundId: round.roundId } } },
            // On the agency's open rounds until its close folds its deliveries into the counters.
            ...openRoundWrites(db, round),
            // The pro as read: an erasure deactivates them before it looks for their rounds, so a
            // round it could not find (written after) must not be written with their name and address.
            { ConditionCheck: { TableName: db.table, Key: keys.pro(agencyId, pro.proId), ConditionExpression: 'attribute_not_exists(deactivatedAt)' } },
          ],
        }),
      );
    } catch (error) {
      // An overlapping attempt with the key wrote the round first: resume it.
      const failed = failedConditions(error);
      if (idempotencyKey !== undefined && failed?.includes(0)) return createRound(db, agencyId, campaignId, input, now, { idempotencyKey });
      if (failed?.some((i) => i > 0)) throw new ConflictError('The campaign’s pro is deactivated: reactivate them to send a round');
      throw error;
    }
  }
  // The round is as of its first attempt: the throttle dates it writes are its creation time, which
  // is also how cancelling it knows them.
  const at = new Date(round.createdAt);
  // With a key, even the attempt that wrote the round reads as resuming it: an overlapping attempt
  // may already have reserved (or invited) some of its addresses, which are this round's, not throttled.
  const { eligible, skipped, states, accepted, anyCutoff, audienceCutoff } = await sortRecipients(db, agency, recipients, at, now, idempotencyKey !== undefined ? { roundId: round.roundId } : undefined);

  const answeredBefore = (hash: string) =>
    (states.get(itemKey(keys.recipientState(agencyId, hash)))?.answeredNamed as Set<string> | undefined)?.has(pro.proId) === true;
  const invitationFor = ({ recipient, hash, before }: Eligible): Invitation => ({
    invitationId: hashedId('inv', round.roundId, hash),
    roundId: round.roundId,
    agencyId,
    email: recipient.email,
    name: recipient.name || null,
    audience: recipient.audience,
    outlet: recipient.outlet || null,
    status: 'pending',
    createdAt: round.createdAt,
    sentAt: null,
    respondedAt: null,
    remindersSent: 0,
    nextReminderAt: null,
    throttleBefore: before,
    ...(answeredBefore(hash) ? { returning: true } : {}),
  });
  /** What a reservation writes on the recipient's state: this round's dates, and who holds them since when, over which dates. */
  const reservationOf = ({ recipient, before }: Eligible) => ({
    type: 'recipientState',
    [recipient.audience]: round.createdAt,
    lastAny: round.createdAt,
    heldBy: round.roundId,
    heldAt: iso(now),
    heldBefore: { lastAny: before.lastAny, [recipient.audience]: before.audience },
  });
  /**
   * The recipient's reservation: its throttle state, updated under the throttle rule (atomic: two
   * rounds racing for one address cannot both take it), or taken again by this round's own retry,
   * or over an orphaned reservation unchanged since it was read. The state is also how a global
   * suppression finds this agency (keys.ts 10c), and `rounds` how an erasure finds the invitation (keys.ts 45).
   */
  const reserve = (candidate: Eligible) => {
    const { recipient, hash, orphan } = candidate;
    // An orphan of another audience gets that audience's date back: it was never surveyed so.
    const restore = orphan && orphan.audience.name !== recipient.audience ? orphan.audience : null;
    const set = setClauses(reservationOf(candidate));
    return {
      Key: keys.recipientState(agencyId, hash),
      UpdateExpression: [
        `SET ${set.clauses.join(', ')}${restore?.before ? ', #restore = :restore' : ''}`,
        'ADD rounds :rounds',
        ...(restore && restore.before === null ? ['REMOVE #restore'] : []),
      ].join(' '),
      // Over an orphan, only while it is as read: its dates are then what the sort judged by.
      ConditionExpression: [
        ...(orphan
          ? ['(heldBy = :orphan AND heldAt = :orphanAt)']
          : ['attribute_not_exists(PK) OR ((attribute_not_exists(lastAny) OR lastAny < :anyCutoff) AND (attribute_not_exists(#audience) OR #audience < :audienceCutoff))']),
        'heldBy = :round',
      ].join(' OR '),
      ExpressionAttributeNames: { ...set.names, ...(orphan ? {} : { '#audience': recipient.audience }), ...(restore ? { '#restore': restore.name } : {}) },
      ExpressionAttributeValues: {
        ...set.values,
        ':round': round.roundId,
        ':rounds': new Set([round.roundId]),
        ...(orphan ? { ':orphan': orphan.roundId, ':orphanAt': orphan.heldAt } : { ':anyCutoff': anyCutoff, ':audienceCutoff': audienceCutoff(recipient.audience) }),
        ...(restore?.before ? { ':restore': restore.before } : {}),
      },
    };
  };
  /** A new address's reservation: its state as `reserve` writes it where there was none. */
  const reservationItem = (candidate: Eligible) => ({ ...keys.recipientState(agencyId, candidate.hash), ...reservationOf(candidate), rounds: new Set([round.roundId]) });
  // Leased from the start: if its job is lost, its round's check queues it again (`checkRounds`).
  const invitationItem = (invitation: Invitation) => ({
    ...keys.invitation(round.roundId, invitation.invitationId),
    ...leaseUntil(new Date(now.getTime() + LEASE_MS)),
    type: 'invitation',
    ...invitation,
    queuedAt: iso(now),
  });

  /** Writes a reserved recipient's invitation; one already there was written by an overlapping attempt with the key: it is this round's, as written. */
  const putInvitation = async (candidate: Eligible): Promise<void> => {
    const invitation = invitationFor(candidate);
    try {
      await db.doc.send(new PutCommand({ TableName: db.table, Item: invitationItem(invitation), ConditionExpression: 'attribute_not_exists(PK)' }));
      accepted.set(candidate.index, invitation);
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.invitation(round.roundId, invitation.invitationId), ConsistentRead: true }));
      accepted.set(candidate.index, withoutKeys<Invitation>(Item!));
    }
  };
  /**
   * Each recipient is two writes, its reservation, then its invitation: not one transaction, which
   * AWS bills at twice the units (4 WRU a recipient, not 2). A reservation refused means another
   * round took the address meanwhile (`throttled`). A failure between the two leaves the
   * reservation alone (`heldReservation`): the retry with the key writes the invitation; without
   * a key the address is free again once the creation window is over, as it was before.
   */
  const writeRecipient = async (candidate: Eligible): Promise<void> => {
    if (!(await updateIfUnchanged(db, reserve(candidate)))) {
      skipped.push({ index: candidate.index, email: candidate.recipient.email, reason: 'throttled' });
      return;
    }
    await putInvitation(candidate);
  };
  /** Recipients to write one by one: those with a state (their reservation has a condition on it), and those a batch did not write. */
  const oneByOne: Eligible[] = [];
  /**
   * Addresses with no state yet (every first survey of an address) are written 25 to a call, in the
   * same order: their reservations as inserts, then the invitations of those reserved. What an
   * insert did not write (a state that appeared meanwhile, a statement refused) is written singly,
   * and a failure of one such write waits for the others in flight (`mapConcurrent`).
   */
  const writeNew = async (batch: Eligible[]): Promise<void> => {
    const reserved = await insertAbsent(db, batch.map(reservationItem));
    oneByOne.push(...batch.filter((_, i) => !reserved[i]));
    const held = batch.filter((_, i) => reserved[i]);
    const invitations = held.map(invitationFor);
    const written = await insertAbsent(db, invitations.map(invitationItem));
    await mapConcurrent(held, STATEMENT_LIMIT, async (candidate, i) => {
      if (written[i]) accepted.set(candidate.index, invitations[i]!);
      else await putInvitation(candidate);
    });
  };
  const isNew = ({ hash }: Eligible) => !states.has(itemKey(keys.recipientState(agencyId, hash)));
  const fresh = eligible.filter(isNew);
  const newBatches = Array.from({ length: Math.ceil(fresh.length / STATEMENT_LIMIT) }, (_, i) => fresh.slice(i * STATEMENT_LIMIT, (i + 1) * STATEMENT_LIMIT));
  oneByOne.push(...eligible.filter((candidate) => !isNew(candidate)));
  // The round's check looks at the invitations within a lease, whatever it read before (`touchRoundWork`).
  if (eligible.length > 0) await touchRoundWork(db, round.roundId, now);
  await mapConcurrent(newBatches, BATCHES_AT_ONCE, writeNew);
  await mapConcurrent(oneByOne, WRITES_AT_ONCE, writeRecipient);

  skipped.sort((a, b) => a.index - b.index);
  // A skipped record names its address too: the address's round list gets this round before the
  // record is written, so an erasure finds it (an invalid address is no one's to erase; an erased one is not kept).
  await mapConcurrent(
    skipped.filter((s) => s.reason !== 'invalid' && s.reason !== 'erased'),
    4,
    (s) =>
      db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.recipientState(agencyId, addressHash(s.email)),
          UpdateExpression: 'SET #type = :type ADD rounds :round',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: { ':type': 'recipientState', ':round': new Set([round.roundId]) },
        }),
      ),
  );
  // Stored rather than only answered: the answer lists the first few (an idempotent reply is
  // stored whole, in one item of at most 400 KB), the API pages the rest.
  await batchPut(db, skipped.map((s) => ({ ...keys.skippedRecipient(round.roundId, s.index), type: 'skippedRecipient', ...s })));
  // A suppression written since the first read did not find these invitations: they are skipped
  // here. Read after every write of the round, skipped records included: an erasure writes its
  // suppression, then looks for the address's rounds, so one of the two sees the other; what an
  // erasure meanwhile did not find is erased here, as it would have been.
  const stored = skipped.filter((s) => s.reason !== 'invalid' && s.email !== '');
  const erased = await skipSuppressedInvitations(db, agencyId, [...accepted.values()], now, stored.map((s) => s.email));
  if (erased.size > 0) {
    const isErased = (email: string) => email !== '' && erased.has(addressHash(email));
    // Their invitations' identities are erased already (`skipSuppressedInvitations`).
    for (const [index, invitation] of accepted) if (isErased(invitation.email)) accepted.set(index, { ...invitation, email: ERASED_EMAIL, name: null, outlet: null });
    await eraseSkipped(db, round.roundId, new Set(stored.filter((s) => isErased(s.email)).map((s) => normalizeAddress(s.email))));
    for (const s of skipped) if (isErased(s.email)) s.email = ERASED_EMAIL;
  }
  // A stop last: it ends the invitations' looks, and an erased identity must be gone before (above).
  await skipIfStopped(db, round.roundId, [...accepted.values()]);
  return {
    round: { ...round, counts: { ...zeroCounts(), pending: accepted.size }, answeredFrom: zeroCounts() },
    accepted: [...accepted].sort(([a], [b]) => a - b).map(([, invitation]) => invitation),
    skipped,
  };
}

/**
 * Skips a round's new invitations if a cancel, a close or its pro's erasure began while they were
 * being written: it read the invitations before these were there, and the sender reads nothing of
 * the round (its copy may predate the stop). The stop marks the round, then reads the invitations;
 * the creation writes them, then reads the round (consistent): one of the two sees the other.
 */
async function skipIfStopped(db: Db, roundId: string, invitations: readonly Invitation[]): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(roundId), ConsistentRead: true }));
  if (Item?.closing === undefined && Item?.proErasedAt === undefined) return false;
  // A cancel gives the throttle back to whoever was not emailed (`skipPending`), as it would have had it read them.
  if (Item.status === 'cancelled') await skipPending(db, withoutKeys<Round>(Item), invitations);
  else await transitionMany(db, roundId, invitations.map((i) => i.invitationId), 'pending', 'skipped', { remove: END_LOOKS });
  return true;
}

/**
 * The checks a creation runs once it wrote its invitations (a stop, then a suppression or an
 * erasure since its first read), run again for invitations of a creation that may have died
 * before it ran them: the round's check, before it queues one whose job never was.
 */
export async function checkCreatedInvitations(db: Db, roundId: string, invitations: readonly Invitation[], now: Date): Promise<void> {
  if (invitations.length === 0) return;
  // Its skipped records name addresses too (an erasure finds them by the address's round list,
  // which the creation may have added this round to after the erasure read it).
  const named: string[] = [];
  for await (const items of queryAll(db, { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :skp)', ExpressionAttributeValues: { ':pk': keys.round(roundId).PK, ':skp': 'SKP#' } })) {
    for (const s of items as unknown as Skipped[]) if (s.reason !== 'invalid' && s.email !== '') named.push(s.email);
  }
  // The erasures first, whether or not the round was also stopped: a skip ends the invitation's
  // look, so an identity left after it (a stop skipping first, a run cut off) would stay for good.
  const erased = await skipSuppressedInvitations(db, invitations[0]!.agencyId, invitations, now, named);
  const skippedErased = named.filter((email) => erased.has(addressHash(email)));
  if (skippedErased.length > 0) await eraseSkipped(db, roundId, new Set(skippedErased.map(normalizeAddress)));
  await skipIfStopped(db, roundId, invitations);
}

/** A round of the agency's, as stored (no counts); another agency's round is "not found", like a missing one. */
export async function readRound(db: Db, agencyId: string, roundId: string): Promise<Round> {
  if (!isId('rnd', roundId)) throw new NotFoundError('survey');
  const round = await roundById(db, roundId);
  if (!round || round.agencyId !== agencyId) throw new NotFoundError('survey');
  return round;
}

/**
 * A round of the agency's with its progress (`roundProgress`, read alongside); `consistent`: the
 * progress as of now (what a cancel or a close answers: `sending` is then the sends in flight).
 */
export async function getRound(db: Db, agencyId: string, roundId: string, { consistent = false } = {}): Promise<RoundWithProgress> {
  const [round, progress] = await Promise.all([readRound(db, agencyId, roundId), isId('rnd', roundId) ? roundProgress(db, roundId, { consistent }) : null]);
  return { ...round, ...progress! };
}

/**
 * A round's progress, tallied from its invitations: one Query of the round's partition (`INV#`),
 * projected to the two attributes it needs. Its read units follow the invitations' size (about
 * 0.5 RCU per 4 KB of them), which is what the counts cost in place of a write on every send and
 * answer.
 */
export async function roundProgress(db: Db, roundId: string, { consistent = false } = {}): Promise<RoundProgress> {
  const counts = zeroCounts();
  const answeredFrom = zeroCounts();
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      ProjectionExpression: '#status, answeredFrom',
      ExpressionAttributeNames: { '#status': 'status' },
      ...(consistent ? { ConsistentRead: true } : {}),
    }),
  )) {
    for (const { status, answeredFrom: from } of items as unknown as Pick<Invitation, 'status' | 'answeredFrom'>[]) {
      counts[status]++;
      // As `deliveryStatus` shows it: an answer from before `answeredFrom` was kept reads as `sent`.
      if (status === 'responded') answeredFrom[from ?? 'sent']++;
    }
  }
  return { counts, answeredFrom };
}

/** Rounds with their progress, a few at a time: what a list that shows counts reads. */
export const withProgress = (db: Db, rounds: readonly Round[]): Promise<RoundWithProgress[]> =>
  mapConcurrent(rounds, 4, async (round) => ({ ...round, ...(await roundProgress(db, round.roundId)) }));

/** A campaign's rounds, oldest first, as stored (the campaign is checked to be the agency's). */
export async function listRounds(db: Db, agencyId: string, campaignId: string, page: PageRequest) {
  await getCampaign(db, agencyId, campaignId);
  return queryPrefix(
    db,
    { partition: keys.roundByCampaign(agencyId, campaignId, '', '').GSI2PK, prefix: '', index: 'GSI2' },
    page,
    storedRound,
  );
}

/** A round's skipped recipients, in the order of the request that created it. */
export function listSkipped(db: Db, roundId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.round(roundId).PK, prefix: 'SKP#' }, page, (item) => withoutKeys<Skipped>(item));
}

/** A round's invitations, without the anonymous answers some hold until the close (`held-answer.ts`). */
export function listInvitations(db: Db, roundId: string, page: PageRequest) {
  return queryPrefix(db, { partition: keys.round(roundId).PK, prefix: 'INV#' }, page, (item) => withoutKeys<Invitation>(splitHeldAnswer(item).invitation));
}

/**
 * What an anonymous round's invitation list may show: whether the email went out, never whether
 * or when its recipient answered. An answered invitation shows the status it had before the
 * answer; an expired one (not answered by the close) shows `sent` like the answered ones.
 */
export const deliveryStatus = (i: Pick<Invitation, 'status' | 'answeredFrom'>): InvitationStatus => {
  const status = i.status === 'responded' ? (i.answeredFrom ?? 'sent') : i.status;
  return status === 'expired' ? 'sent' : status;
};

/**
 * An anonymous round's counts as shown: answered invitations stay counted under the status they
 * had when answered (`answeredFrom`) and expired ones under `sent`, so the counts move with
 * delivery only, and `responded` is the answers released in the round's own batches (0 until it
 * closes; answers waiting in a pool are not shown per round). A live count of answers would tell
 * who answered: to whoever holds a link quoted in a reply (answering through it moves the count
 * only if its owner had not), and after the close, minus the released batches, per audience.
 */
export function deliveryCounts(round: RoundWithProgress): StatusCounts {
  const counts = { ...round.counts };
  for (const status of INVITATION_STATUSES) counts[status] += round.answeredFrom[status];
  // As `deliveryStatus`: after the close, `expired` against `sent` would be who did not answer and
  // who did, even when the answers wait in the pool and the round releases none.
  counts.sent += counts.expired;
  counts.expired = 0;
  const released = (round as unknown as Record<string, unknown>).releasedAnswers;
  counts.responded = typeof released === 'number' ? released : 0;
  return counts;
}

/**
 * An anonymous round's response rate, from the counts it shows: answered over delivered, where
 * answered invitations stay in the status they had. Computed from the raw counts instead, an
 * answer from an invitation shown `failed` (a send interrupted after SES accepted it) would move
 * the rate differently from one shown `sent`, and tell which of them answered.
 */
export function deliveryResponseRate(round: RoundWithProgress): number | null {
  const shown = deliveryCounts(round);
  return percent(shown.responded, shownDelivered(shown));
}

/**
 * Response rate, in percent: responses over invitations delivered. Bounced, failed, skipped and still-pending
 * invitations reached no one, so they do not count against the pro.
 */
export function responseRate(counts: StatusCounts): number | null {
  return percent(counts.responded, rawDelivered(counts));
}

/** Delivered among a round's own counts: answered and expired invitations were delivered too. */
const rawDelivered = (counts: StatusCounts) => counts.sent + counts.responded + counts.expired;
/** Delivered among counts as `deliveryCounts` shows them: answered invitations are under the status they had, expired under `sent`. */
const shownDelivered = (shown: StatusCounts) => shown.sent + shown.expired;

/**
 * A round's invitations delivered (SES took the email and no bounce came back, answered or not),
 * as its response rate divides: what a page shows beside its bounced, failed and waiting ones. An
 * anonymous round's is counted from `deliveryCounts`, so an answer never moves it.
 */
export const deliveredCount = (round: RoundWithProgress): number =>
  round.attribution === 'anonymous' ? shownDelivered(deliveryCounts(round)) : rawDelivered(round.counts);

/**
 * Cancels an open round: nothing more is sent for it and no reminder goes out (the reminder worker
 * reads the round after its claim). Invitations not yet sent become `skipped`, and their
 * recipients get their throttle back (unless another round has taken them since), so a mistaken
 * round can be sent again at once. The sender reads nothing of the round before an email, so the
 * skip is what stops it: the pending invitations are read strongly consistent after the round is
 * marked (none goes back to pending from then on), and one a worker claimed before the skip reached
 * it is an email in flight. The answer's progress is read strongly consistent after the skips: its
 * `sending` counts those, the only first emails that may still go out. Cancelling a cancelled
 * round answers the same; a closed one is a conflict.
 */
export async function cancelRound(db: Db, agencyId: string, roundId: string): Promise<RoundWithProgress> {
  const round = await readRound(db, agencyId, roundId);
  if (round.status === 'closed') throw new ConflictError('The survey has already closed');
  if (round.status === 'open') {
    try {
      await db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: keys.round(roundId),
          // `closing`, as a close sets it: no invitation goes back to pending from here (`returnToQueue`).
          UpdateExpression: 'SET #status = :cancelled, closing = if_not_exists(closing, :now)',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': 'cancelled', ':open': 'open', ':now': iso(new Date()) },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return cancelRound(db, agencyId, roundId);
    }
  }
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      FilterExpression: '#status IN (:pending, :sending, :sent)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':sending': 'sending', ':sent': 'sent' },
      // An invitation put back in the queue just before the mark must not read as still `sending`.
      ConsistentRead: true,
    }),
  )) {
    const invitations = items as unknown as Invitation[];
    const claimed = await skipPending(db, round, invitations.filter((i) => i.status === 'pending'));
    await closeToAnswers(db, roundId, [...invitations.filter((i) => i.status !== 'pending').map((i) => i.invitationId), ...claimed]);
  }
  return getRound(db, agencyId, roundId, { consistent: true });
}

/**
 * Marks a cancelled round's emailed invitations (`sent`, or `sending` and so maybe `sent` soon) as
 * taking no more answers: a first answer to a `sent` invitation checks that mark, not the round
 * (`submitResponse`), and a close expires them only at the round's closing time. One that moved
 * on meanwhile (answered, bounced) needs none.
 */
async function closeToAnswers(db: Db, roundId: string, invitationIds: readonly string[]): Promise<void> {
  const now = iso(new Date());
  await mapConcurrent(invitationIds, WRITES_AT_ONCE, (invitationId) =>
    updateIfUnchanged(db, {
      Key: keys.invitation(roundId, invitationId),
      UpdateExpression: 'SET answersClosedAt = if_not_exists(answersClosedAt, :now)',
      ConditionExpression: '#status IN (:sending, :sent)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':now': now, ':sending': 'sending', ':sent': 'sent' },
    }),
  );
}

/** Invitations per transaction when cancelling: each with its throttle restore (≤ 100 items). */
const SKIP_GROUP = 50;

/**
 * Skips a cancelled round's pending invitations, each with its recipient's throttle given back, in
 * one transaction per 50 (as fast as creating them): only an invitation this cancel takes from
 * `pending` was certainly never emailed, so its skip and its throttle go together. An invitation
 * that moved meanwhile (claimed to send) is left out, and returned; a throttle a later round took is left as it is.
 */
async function skipPending(db: Db, round: Round, invitations: readonly Invitation[]): Promise<string[]> {
  const claimed: string[] = [];
  for (let start = 0; start < invitations.length; start += SKIP_GROUP) {
    let group = invitations.slice(start, start + SKIP_GROUP).map((invitation) => ({ invitation, restore: throttleRestore(db, round, invitation) }));
    for (let attempt = 1; group.length > 0; attempt++) {
      const items: TransactItem[] = [];
      const owners: { at: number; restore: boolean }[] = [];
      group.forEach(({ invitation, restore }, at) => {
        items.push({
          Update: {
            TableName: db.table,
            Key: keys.invitation(round.roundId, invitation.invitationId),
            UpdateExpression: 'SET #status = :to REMOVE checkAt',
            ConditionExpression: '#status = :from',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':to': 'skipped', ':from': 'pending' },
          },
        });
        owners.push({ at, restore: false });
        if (restore) {
          items.push(restore);
          owners.push({ at, restore: true });
        }
      });
      try {
        await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
        break;
      } catch (error) {
        const failed = failedConditions(error);
        if (failed === undefined) throw error;
        if (failed.length > 0) {
          const moved = new Set(failed.filter((i) => owners[i] && !owners[i].restore).map((i) => owners[i]!.at));
          const taken = new Set(failed.filter((i) => owners[i]?.restore).map((i) => owners[i]!.at));
          for (const at of moved) claimed.push(group[at]!.invitation.invitationId);
          group = group.map((entry, at) => (taken.has(at) ? { ...entry, restore: null } : entry)).filter((_, at) => !moved.has(at));
        } else if (!isTransactionConflict(error) || attempt >= 9) throw error;
        else await new Promise((r) => setTimeout(r, 10 * 2 ** attempt + Math.random() * 20));
      }
    }
  }
  return claimed;
}
