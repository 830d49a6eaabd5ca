import { updateIfUnchanged } from '../db/transact';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { NotFoundError } from '../shared/errors';
import { listUnsubscribeHeaders, renderInvitation } from '../email/invitation';
import { senderName } from '../email/text';
import type { MailerError } from '../email/mailer';
import { isOpen, roundById } from '../survey/round-state';
import type { Invitation, Round } from '../survey/round';
import { signInvitationToken } from '../survey/token';
import { iso } from '../shared/time';
import type { DeliveryDeps } from './deliver';
import { invitationTags } from './records';
import { sendWithRetry } from './retry';

/**
 * The round as it is now, and whether a claimed reminder may still be emailed, read strongly
 * consistent after the reminder's claim: a round closing, closed or cancelled is not emailed, nor
 * one whose pro was erased (it would name "Former pro", with no reply-to), nor an address that said no while its invitation was being sent (`suppressedAt`, written by
 * `enforceSuppression`), or was erased.
 */
export async function mayStillSend(db: Db, invitation: Invitation, at: Date): Promise<{ round: Round; sendable: boolean }> {
  const round = await roundById(db, invitation.roundId, { consistent: true });
  if (!round) throw new NotFoundError('survey');
  return { round, sendable: round.closing === undefined && round.proErasedAt === undefined && isOpen(round, at) && invitation.erasedAt === undefined && invitation.suppressedAt === undefined };
}

/** Rounds a worker keeps, the oldest dropped first: a sender works through a few rounds at a time. */
const KEPT_ROUNDS = 500;
/**
 * How long a kept round is used (process time). Not what makes it safe (see `roundForSending`);
 * it bounds how long a copy outlives what the guarantee does not cover: a cancel cut off before
 * its skips, which the client asks again.
 */
const KEEP_MS = 60_000;
const keptRounds = new Map<string, { round: Round; until: number }>();

/**
 * The round an invitation's first email is made from, kept by the worker process after the first
 * read (eventually consistent; strongly only if that found nothing, a round written a moment ago).
 * Safe to keep because nothing the email uses changes while a claim of the round can still succeed,
 * but for a correction of the pro's name or address, which the copy follows within a minute: its
 * names, attribution and reminder plan are snapshots taken at creation; what stops its sends (a
 * cancel, a close, a pro's erasure, which blanks the pro's name and address) takes every pending
 * invitation out of `pending` before it answers and lets none come back (`returnToQueue`), so a
 * claim that succeeds after it is impossible and one that succeeded before is a send in flight it
 * counted. `closesAt` only moves earlier (a close now), and that close skips the pending ones.
 */
export async function roundForSending(db: Db, roundId: string): Promise<Round> {
  const kept = keptRounds.get(roundId);
  if (kept && kept.until > performance.now()) return kept.round;
  keptRounds.delete(roundId);
  const round = (await roundById(db, roundId)) ?? (await roundById(db, roundId, { consistent: true }));
  if (!round) throw new NotFoundError('survey');
  if (keptRounds.size >= KEPT_ROUNDS) keptRounds.delete(keptRounds.keys().next().value!);
  keptRounds.set(roundId, { round, until: performance.now() + KEEP_MS });
  return round;
}

/**
 * Composes the survey email of an invitation (its first email, or its `reminder`-th reminder) and
 * hands it to SES (retrying, see `sendWithRetry`), tagged so that SES's record, and its bounce and
 * complaint events, name the invitation (`invitationTags`): nothing is written to find it by.
 */
export async function sendSurveyEmail(
  deps: DeliveryDeps,
  round: Round,
  invitation: Invitation,
  email: { kind: 'invitation' } | { kind: 'reminder'; reminder: number },
): Promise<{ messageId: string } | { error: MailerError }> {
  const { kind } = email;
  const token = signInvitationToken(deps.linkSecret, invitation);
  const unsubscribeUrl = `${deps.publicUrl}/u/${token}`;
  const content = renderInvitation({
    proName: round.proName,
    agencyName: round.agencyName,
    campaignName: round.campaignName,
    recipientName: invitation.name ?? undefined,
    audience: invitation.audience,
    attribution: round.attribution,
    surveyUrl: `${deps.publicUrl}/s/${token}`,
    unsubscribeUrl,
    kind,
    commitment: round.commitment?.text,
    returning: invitation.returning,
  });
  const message = {
    from: { name: senderName(round.proName, round.agencyName), address: deps.mailFrom },
    to: { name: invitation.name ?? undefined, address: invitation.email },
    // Reminders go only to those who have not answered: on an anonymous round, a reply (or an
    // auto-reply) to one would tell the pro who had not. The first email goes to everyone.
    ...(kind === 'reminder' && round.attribution === 'anonymous' ? {} : { replyTo: { name: round.proName, address: round.proEmail } }),
    ...content,
    headers: listUnsubscribeHeaders(unsubscribeUrl),
  };

  return sendWithRetry(deps, { ...message, tags: invitationTags(invitation, email) });
}

/** Notes why a send is in doubt, leaving its status and lease as they are. */
export async function noteSendFailure(db: Db, invitation: Pick<Invitation, 'roundId' | 'invitationId'>, code: string, now: Date): Promise<void> {
  // Only where it still is: an erasure may have moved it off this id while it was being sent
  // (`unlinkInvitation`), and a bare update would put a stray invitation back under the old id.
  await updateIfUnchanged(db, {
    Key: keys.invitation(invitation.roundId, invitation.invitationId),
    UpdateExpression: 'SET lastFailure = :code, lastFailureAt = :now',
    ConditionExpression: 'attribute_exists(PK)',
    ExpressionAttributeValues: { ':code': code, ':now': iso(now) },
  });
}
