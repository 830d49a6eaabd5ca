import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { withoutKeys } from '../db/items';
import { NotFoundError } from '../shared/errors';
import { isOpen } from '../survey/response';
import { listUnsubscribeHeaders, renderInvitation } from '../email/invitation';
import { senderName } from '../email/text';
import type { MailerError } from '../email/mailer';
import type { Invitation, Round } from '../survey/round';
import { signInvitationToken } from '../survey/token';
import { iso } from '../shared/time';
import type { DeliveryDeps } from './deliver';
import { invitationTags } from './records';
import { sendWithRetry } from './retry';

/**
 * The round as it is now, and whether a claimed invitation (or reminder) may still be emailed,
 * read strongly consistent after the claim. Read before the claim (or kept from an earlier send),
 * the round could predate a cancel or a close that read the invitation before the claim and so
 * could not stop it, or a pro's erasure: a round closing, closed or cancelled is not emailed, nor
 * an address that said no while its invitation was being sent (`suppressedAt`, written by
 * `enforceSuppression`, which the claim returns), or was erased.
 */
export async function mayStillSend(db: Db, invitation: Invitation, at: Date): Promise<{ round: Round; sendable: boolean }> {
  const { Item: item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.round(invitation.roundId), ConsistentRead: true }));
  if (!item) throw new NotFoundError('survey');
  const round = withoutKeys<Round>(item);
  return { round, sendable: item.closing === undefined && isOpen(round, at) && invitation.erasedAt === undefined && invitation.suppressedAt === undefined };
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
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: keys.invitation(invitation.roundId, invitation.invitationId),
      UpdateExpression: 'SET lastFailure = :code, lastFailureAt = :now',
      ExpressionAttributeValues: { ':code': code, ':now': iso(now) },
    }),
  );
}
