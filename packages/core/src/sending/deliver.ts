import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { batchGet } from '../db/batch';
import { iso } from '../shared/time';
import { listUnsubscribeHeaders, renderInvitation } from '../email/invitation';
import { toMailerError, type MailerError, type Mailer } from '../email/mailer';
import { addressHash } from '../survey/address';
import { openInvitation, isOpen } from '../survey/response';
import { signInvitationToken } from '../survey/token';
import type { SendJob } from './queue';
import { transitionInvitation } from './transition';

export interface DeliveryDeps {
  db: Db;
  mailer: Mailer;
  linkSecret: string;
  publicUrl: string;
  mailFrom: string;
  now: () => Date;
  /** Attempts at SES per email, with exponential backoff between them (throttling, 5xx). */
  retry?: { attempts: number; baseDelayMs: number };
  sleep?: (ms: number) => Promise<void>;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'failed' | 'not-due';

const DEFAULT_RETRY = { attempts: 5, baseDelayMs: 500 };

/**
 * Sends one invitation email, exactly once toward the person however often the job runs:
 * the invitation is claimed (pending → sending) by a conditional write before SES is called, so
 * a second run finds it taken and does nothing. An email whose sender died after the claim stays
 * `sending` and is never re-sent: a possible lost email is better than a duplicate.
 */
export async function deliverInvitation(deps: DeliveryDeps, job: SendJob): Promise<DeliveryOutcome> {
  const { db } = deps;
  const { round, invitation } = await openInvitation(db, job);
  if (invitation.status !== 'pending') return 'not-due';

  const hash = addressHash(invitation.email);
  const suppressed = await batchGet(db, [keys.globalSuppression(hash), keys.agencySuppression(hash, round.agencyId)]);
  if (!isOpen(round, deps.now()) || suppressed.size > 0) {
    // Cancelled or closed since, or the address said no since the round was created.
    await transitionInvitation(db, round.roundId, invitation.invitationId, 'pending', 'skipped');
    return 'skipped';
  }
  if (!(await transitionInvitation(db, round.roundId, invitation.invitationId, 'pending', 'sending', { sendingAt: iso(deps.now()) }))) {
    return 'not-due';
  }

  const token = signInvitationToken(deps.linkSecret, job);
  const unsubscribeUrl = `${deps.publicUrl}/u/${token}`;
  const content = renderInvitation({
    proName: round.proName,
    campaignName: round.campaignName,
    recipientName: invitation.name ?? undefined,
    audience: invitation.audience,
    attribution: round.attribution,
    surveyUrl: `${deps.publicUrl}/s/${token}`,
    unsubscribeUrl,
    kind: 'invitation',
  });
  const message = {
    from: { name: `${round.proName} via Rapport`, address: deps.mailFrom },
    to: { name: invitation.name ?? undefined, address: invitation.email },
    replyTo: { name: round.proName, address: round.proEmail },
    ...content,
    headers: listUnsubscribeHeaders(unsubscribeUrl),
  };

  const { attempts, baseDelayMs } = deps.retry ?? DEFAULT_RETRY;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastError: MailerError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const { messageId } = await deps.mailer.send(message);
      const sentAt = iso(deps.now());
      await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'sent', { sentAt, messageId });
      // Bounce and complaint notifications name the SES message id; this finds the invitation.
      await db.doc.send(
        new PutCommand({
          TableName: db.table,
          Item: { PK: `MSG#${messageId}`, SK: 'MSG', type: 'messageRef', roundId: round.roundId, invitationId: invitation.invitationId },
        }),
      );
      return 'sent';
    } catch (error) {
      lastError = toMailerError(error);
      if (!lastError.retryable || attempt === attempts) break;
      await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
  await transitionInvitation(db, round.roundId, invitation.invitationId, 'sending', 'failed', {
    failedAt: iso(deps.now()),
    failure: lastError?.code ?? 'Unknown',
  });
  return 'failed';
}
