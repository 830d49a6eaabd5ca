import * as v from 'valibot';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { batchGet, itemKey } from '../db/batch';
import { failedConditions, isTransactionConflict } from '../db/conditions';
import { batchAggregate, counterScope, counterUpdates, deliveredDelta, responseDelta } from '../scores/counters';
import { tallied } from '../scores/open-rounds';
import { namedBatchId, newRowKey, type Release, type ReleaseBatch } from '../release/batch';
import { ConflictError, NotFoundError } from '../shared/errors';
import { iso } from '../shared/time';
import { parseInput } from '../shared/validate';
import { maxChars } from '../shared/schemas';
import { AUDIENCE_DIMENSIONS, IMPROVE_MAX_LENGTH, INSTRUMENT_VERSION, type Audience, type Dimension } from './instrument';
import { isOpen, type Invitation, type InvitationStatus, type Round } from './round';
import type { InvitationRef } from './token';
import { addressHash } from './address';
import { presentResponse } from '../responses/listing';
import { eventIdFor, webhookOutbox } from '../webhooks/events';
import { responseItem, responseOf } from './response-item';
import { movedOff } from './moved';
import { fitsHeld, holdFirstAnswer, takeHeldClauses, splitHeldAnswer } from './held-answer';

const score = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(`must be a whole number from ${min} to ${max}`), v.minValue(min, `must be from ${min} to ${max}`), v.maxValue(max, `must be from ${min} to ${max}`));

/**
 * The answers of one audience: the headline item is required (it is what the email asked), the
 * rest may be left out — a short survey half-answered beats one abandoned.
 */
export const answersSchema = (audience: Audience) =>
  v.strictObject({
    responsiveness: score(1, 5),
    recommend: v.optional(score(0, 10)),
    ...(Object.fromEntries(AUDIENCE_DIMENSIONS[audience].map((d) => [d, v.optional(score(1, 5))])) as Record<Dimension, v.OptionalSchema<ReturnType<typeof score>, undefined>>),
    improve: v.optional(v.pipe(v.string(), v.trim(), maxChars(IMPROVE_MAX_LENGTH))),
    quoteConsent: v.optional(v.boolean(), false),
  });

export type Answers = { responsiveness: number; recommend?: number; improve?: string; quoteConsent: boolean } & Partial<Record<Dimension, number>>;

export interface SurveyResponse {
  roundId: string;
  invitationId: string;
  agencyId: string;
  proId: string;
  campaignId: string;
  campaignName: string;
  audience: Audience;
  /** The round's: on `anonymous` rounds nothing here says who answered. */
  attribution: 'anonymous' | 'named';
  /** Only on named rounds, whose respondents were told their name is shared. */
  respondent: { name: string | null; email: string; outlet: string | null } | null;
  /** The month whose scores the answer counts in (the round's). */
  period: string;
  instrumentVersion: number;
  answers: Answers;
  firstSubmittedAt: string;
  submittedAt: string;
  revision: number;
  /** Set once the answer is released (named: when given; anonymous: with its batch). */
  release?: Release;
  /** An anonymous answer whose respondent was erased before its release: moved off its key (derived from their address) once released. */
  unlinkOnRelease?: true;
}

/** A promoter's comment the respondent agreed may be quoted. */
export const isTestimonial = (answers: Answers): boolean =>
  (answers.recommend ?? 0) >= 9 && answers.quoteConsent && Boolean(answers.improve);

/** The statuses whose invitation the counters already count as delivered. */
const DELIVERED_STATUSES: readonly InvitationStatus[] = ['sent', 'expired'];

export class SurveyClosedError extends ConflictError {
  constructor() {
    super('This survey has closed');
  }
}

/** An invitation an erasure moved off this id (`unlinkInvitation`): its link answers as closed, and a job naming it has nothing to do. */
export class InvitationGoneError extends SurveyClosedError {}

/** What a link leads to: the round, the invitation and any answer already given. */
export async function openInvitation(db: Db, ref: InvitationRef, read: { consistent?: boolean } = {}) {
  const found = await batchGet(db, [keys.round(ref.roundId), keys.invitation(ref.roundId, ref.invitationId), keys.response(ref.roundId, ref.invitationId)], read);
  const round = found.get(itemKey(keys.round(ref.roundId)));
  const invitationItem = found.get(itemKey(keys.invitation(ref.roundId, ref.invitationId)));
  if (round && !invitationItem && (await movedOff(db, ref.roundId, ref.invitationId))) throw new InvitationGoneError();
  if (!round || !invitationItem) throw new NotFoundError('invitation');
  const { invitation, held } = splitHeldAnswer(invitationItem);
  const response = found.get(itemKey(keys.response(ref.roundId, ref.invitationId)));
  return {
    round: withoutKeys<Round>(round),
    invitation: withoutKeys<Invitation>(invitation),
    // Its own item first: a move cut off after writing it leaves the same answer held too.
    response: response ? responseOf(response) : held,
    /** The answer as held on the invitation, when it is held there (`held-answer.ts`). */
    held,
  };
}

export type OpenedInvitation = Awaited<ReturnType<typeof openInvitation>>;

/**
 * Stores the answer to an invitation: at most one response per invitation (its key is the
 * invitation's), revisable until the round closes, the latest answer winning. One transaction
 * writes the response and moves the invitation's status (which the round's counts are tallied
 * from), conditional on the round being open (for a first answer to a `sent` invitation, on its
 * status, which a close changes first), so nothing lands after a close has started releasing; on a named round it also counts the answer towards the response rate. An anonymous answer counts in no score until its round closes and
 * it is released in a batch of at least k (`release/`); a named one is released at once, as a
 * batch of one whose figures follow its revisions. Everything is conditional on the state read:
 * a double submit counts once, and a concurrent one is read again and retried, so that a
 * respondent pressing "send" several times (or several tabs) always ends on the thank-you page.
 */
export async function submitResponse(db: Db, ref: InvitationRef, input: unknown, now: Date, { opened }: { opened?: OpenedInvitation } = {}): Promise<SurveyResponse> {
  for (let attempt = 0; attempt < SUBMIT_ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, submitBackoffMs(attempt)));
    // The write is conditional on what was read, so a stale first read (or the caller's `opened`,
    // read just before) costs a retry, never a wrong answer; a retry reads strongly consistent, or
    // it could see the revision that won the race as missing.
    const { round, invitation, response: previous, held } = attempt === 0 && opened ? opened : await openInvitation(db, ref, { consistent: attempt > 0 });
    // An erased recipient's link answers like a closed survey: nothing of theirs is written again.
    if (!isOpen(round, now) || invitation.erasedAt !== undefined) throw new SurveyClosedError();
    const answers = parseInput(answersSchema(invitation.audience), input) as Answers;
    const firstSubmittedAt = previous?.firstSubmittedAt ?? iso(now);
    const named = round.attribution === 'named';
    const response: SurveyResponse = {
      roundId: round.roundId,
      invitationId: invitation.invitationId,
      agencyId: round.agencyId,
      proId: round.proId,
      campaignId: round.campaignId,
      campaignName: round.campaignName,
      audience: invitation.audience,
      attribution: round.attribution,
      respondent: named ? { name: invitation.name, email: invitation.email, outlet: invitation.outlet } : null,
      period: round.period,
      instrumentVersion: INSTRUMENT_VERSION,
      answers,
      firstSubmittedAt,
      submittedAt: iso(now),
      revision: (previous?.revision ?? 0) + 1,
      ...(named ? { release: previous?.release ?? namedRelease(round, invitation.invitationId, firstSubmittedAt) } : {}),
    };
    const from: InvitationStatus = invitation.status;
    const firstAnswer = from !== 'responded';
    // A send still unrecorded (answered while `sending`, first time or not, or a reminder in
    // flight) keeps its lease: the recovery sweep settles it from SES's record if its worker died.
    const unsettled = from === 'sending' || (from === 'responded' && invitation.answeredFrom === 'sending') || invitation.reminderSending !== undefined;
    // An anonymous first answer to a `sent` invitation, with nothing to follow it and of a
    // bounded size, is held on the invitation: one write, not a transaction (`held-answer.ts`).
    // Anything else is written below.
    const warned = round.earlyWarnings && needsEarlyWarning(answers);
    if (!named && previous === null && from === 'sent' && !unsettled && !warned && fitsHeld(response)) {
      if (await holdFirstAnswer(db, response, iso(now))) return response;
      continue;
    }
    // The previous answer in its own item (else held on the invitation, or none).
    const stored = previous !== null && previous !== held;
    const heldClauses = takeHeldClauses(held);
    const scope = counterScope(round, invitation);
    // A named round's new answer is told by webhook, written with it; revisions and anonymous answers are not.
    const created = named && firstAnswer
      ? await webhookOutbox(db, {
          // By its row key (random), not its invitation id: that is a hash of the address, and the
          // id is in the agency's delivery log, which an erasure must leave untied to the person.
          eventId: eventIdFor(now, 'response.created', response.release!.rowKey),
          agencyId: round.agencyId,
          type: 'response.created',
          timestamp: iso(now),
          data: { response: presentResponse(response) },
        })
      : [];
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: db.table,
                Item: {
                  ...keys.response(round.roundId, invitation.invitationId),
                  ...(response.release
                    ? { ...keys.releasedByAgency(round.agencyId, response.release.rowKey), ...keys.releasedByPro(round.agencyId, round.proId, response.release.rowKey) }
                    : {}),
                  type: 'response',
                  ...responseItem(response),
                },
                // The revision read must still be the stored one: concurrent submits cannot both win.
                ConditionExpression: stored ? 'revision = :previous' : 'attribute_not_exists(PK)',
                ...(stored ? { ExpressionAttributeValues: { ':previous': previous.revision } } : {}),
              },
            },
            {
              Update: {
                TableName: db.table,
                Key: keys.invitation(round.roundId, invitation.invitationId),
                // Leaving the reminder index here is what cancels the reminders. The status it had
                // is kept: an anonymous round's list shows that delivery status, not the answer.
                // A held answer it revises moves off it (into the response above), as it was read.
                UpdateExpression: `SET #status = :responded, respondedAt = :now, nextReminderAt = :none${firstAnswer ? ', answeredFrom = :from' : ''} REMOVE ${heldClauses.remove}${unsettled ? '' : ', checkAt'}`,
                // Read with no reminder in flight: still none (a claim since is read again, and keeps its lease).
                // Not erased since it was read either (`eraseAddress` sets `erasedAt`).
                // A first answer to a `sent` one: not closed to answers by a cancel either (`closeToAnswers`).
                ConditionExpression: `#status = :from AND attribute_not_exists(erasedAt) AND ${heldClauses.condition}${from === 'sent' && !unsettled ? ' AND attribute_not_exists(reminderSending)' : ''}${firstAnswer && from === 'sent' ? ' AND attribute_not_exists(answersClosedAt)' : ''}`,
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':responded': 'responded', ':now': iso(now), ':from': from, ':none': null, ...heldClauses.values },
              },
            },
            // Checked, not written: concurrent answers of a round do not queue behind its item. A
            // first answer to a `sent` invitation needs no check (2 WRU in a transaction): its
            // status is the check, as a close expires every `sent` invitation before it closes the
            // round, and none is `sent` again after that (`tryClose`); a cancel marks them (above).
            ...(firstAnswer && from === 'sent'
              ? []
              : [
                  {
                    ConditionCheck: {
                      TableName: db.table,
                      Key: keys.round(round.roundId),
                      ConditionExpression: '#status = :open',
                      ExpressionAttributeNames: { '#status': 'status' },
                      ExpressionAttributeValues: { ':open': 'open' },
                    },
                  },
                ]),
            // Only a named answer moves anything published now: it is released at once. An answer
            // proves delivery, so one to an invitation not counted as delivered (its send was
            // interrupted, or it bounced after all) counts it — on named rounds only, since on an
            // anonymous one that would tell who answered.
            ...(named
              ? counterUpdates(db, scope, {
                  ...responseDelta(previous?.answers ?? null, answers),
                  // (A round's tally counts its named answers itself until the close, after which none come.)
                  ...(firstAnswer && !DELIVERED_STATUSES.includes(from) && !tallied(round) ? deliveredDelta(1) : {}),
                })
              : []),
            ...(response.release ? namedBatchWrites(db, round, response, previous) : []),
            // The address has now answered this pro by name: its next invitation about them may say "last time" (`Invitation.returning`).
            ...(named && firstAnswer
              ? [
                  {
                    Update: {
                      TableName: db.table,
                      Key: keys.recipientState(round.agencyId, addressHash(invitation.email)),
                      UpdateExpression: 'ADD answeredNamed :pro',
                      ExpressionAttributeValues: { ':pro': new Set([round.proId]) },
                    },
                  },
                ]
              : []),
            // What follows the answer, written with it: a low answer's early warning is due. The
            // page queues its job at once; if that fails, the recovery sweep finds this and queues it.
            ...(warned ? [{ Put: { TableName: db.table, Item: warningDue(response, now) } }] : []),
            ...created,
          ],
        }),
      );
      return response;
    } catch (error) {
      // A condition that failed (a concurrent submit, or the round closing) is read again.
      if (!failedConditions(error)?.length && !isTransactionConflict(error)) throw error;
    }
  }
  throw new ConflictError('The answer changed concurrently; try again');
}

/**
 * Each concurrent submit of one link wins a round of attempts or is read again; with "full
 * jitter" (a random wait up to an exponential cap) the losers spread out instead of colliding
 * again together. 12 attempts wait at most 6.6 s in all, within any page's patience; 25
 * simultaneous submits of one link all land (`submit.concurrency.test.ts`).
 */
const SUBMIT_ATTEMPTS = 12;
const submitBackoffMs = (attempt: number) => Math.random() * Math.min(1000, 25 * 2 ** (attempt - 1));

/** A low answer is one the pro may be warned about: responsiveness 2 or less, or a recommendation of 6 or less (a detractor). */
export const needsEarlyWarning = (answers: Pick<Answers, 'responsiveness' | 'recommend'>): boolean =>
  answers.responsiveness <= 2 || (answers.recommend !== undefined && answers.recommend <= 6);

/** The item that says a submission's early warning is due, leased so that a lost job is queued again. */
function warningDue(response: SurveyResponse, now: Date) {
  const job = { kind: 'early-warning', roundId: response.roundId, invitationId: response.invitationId };
  return {
    ...keys.warningDue(response.roundId, response.invitationId, response.revision),
    ...keys.warningDueLease(response.roundId, response.invitationId, response.revision, iso(new Date(now.getTime() + WARNING_DUE_LEASE_MS))),
    type: 'warningDue',
    job,
  };
}

/** As long as a send's lease (15 minutes): the job queued at once has run well before. */
const WARNING_DUE_LEASE_MS = 15 * 60_000;

/** A named answer is released when first given, as a batch of its own (k = 1). */
function namedRelease(round: Round, invitationId: string, at: string): Release {
  const batchId = namedBatchId(round.roundId, invitationId);
  return { batchId, releasedAt: at, campaignId: round.campaignId, campaignName: round.campaignName, period: round.period, k: 1, rowKey: newRowKey(at, batchId) };
}

/** The batch record of a named answer (replaced on each revision) and its testimonial copy. */
function namedBatchWrites(db: Db, round: Round, response: SurveyResponse, previous: SurveyResponse | null): NonNullable<TransactWriteCommandInput['TransactItems']> {
  const release = response.release!;
  const batch: ReleaseBatch = {
    batchId: release.batchId,
    agencyId: round.agencyId,
    proId: round.proId,
    audience: response.audience,
    attribution: 'named',
    campaignId: round.campaignId,
    campaignName: round.campaignName,
    period: round.period,
    releasedAt: release.releasedAt,
    k: 1,
    size: 1,
    aggregate: batchAggregate([response.answers], 1),
    source: { roundId: round.roundId },
  };
  const testimonialKey = keys.testimonial(round.agencyId, release.rowKey);
  return [
    { Put: { TableName: db.table, Item: { ...keys.batch(batch.batchId), ...keys.batchByPro(batch.agencyId, batch.proId, batch.releasedAt, batch.batchId), type: 'batch', ...batch } } },
    ...(isTestimonial(response.answers)
      ? [{ Put: { TableName: db.table, Item: { ...testimonialKey, type: 'testimonial', ...response } } }]
      : previous && isTestimonial(previous.answers)
        ? [{ Delete: { TableName: db.table, Key: testimonialKey } }]
        : []),
  ];
}

/** An invitation's answer, in its own item or held on the invitation (strongly consistent). */
export async function getResponse(db: Db, ref: InvitationRef): Promise<SurveyResponse | null> {
  const found = await batchGet(db, [keys.invitation(ref.roundId, ref.invitationId), keys.response(ref.roundId, ref.invitationId)], { consistent: true });
  const stored = found.get(itemKey(keys.response(ref.roundId, ref.invitationId)));
  const invitation = found.get(itemKey(keys.invitation(ref.roundId, ref.invitationId)));
  return stored ? responseOf(stored) : invitation ? splitHeldAnswer(invitation).held : null;
}
