import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from '../db/client';
import { keys } from '../db/keys';
import { isConditionFailed } from '../db/conditions';
import { queryAll, roundInvitationsQuery } from '../db/page';
import { getAgency } from '../agency/agency';
import { emailDocument, FONT, WRAP } from '../email/layout';
import { escapeHtml, isolate, oneLine, plainText, senderName, truncate } from '../email/text';
import { iso } from '../shared/time';
import { AUDIENCE_DIMENSIONS, ITEM_LABELS, RESPONSIVENESS_LABELS, type Audience } from '../survey/instrument';
import { InvitationGoneError, needsEarlyWarning, openInvitation, type Answers } from '../survey/response';
import { promisedThreshold } from '../survey/round';
import type { DeliveryDeps, DeliveryOutcome } from '../sending/deliver';
import { retryDelaySeconds, sendWithRetry } from '../sending/retry';
import type { SendJob } from '../sending/queue';
import { mailClaim, mailFailed, mailRef, mailSent, mailTags, releaseMail, withMailRef } from '../sending/mail-claim';
import { listUnsubscribeHeaders } from '../email/invitation';
import { preferencesUrl, proReceives, type MailRecipient } from '../preferences/mail-preferences';
import type { Pro } from '../pro/pro';

export { needsEarlyWarning } from '../survey/response';

const AUDIENCE_NAMES: Record<Audience, string> = { reporter: 'A reporter', colleague: 'A colleague', client: 'A client' };

/**
 * The early-warning email: who (only the audience — never the respondent, on any round), which
 * campaign, the scores and the comment. Everything is escaped, names become one line, bidi-isolated
 * in the HTML; the subject has no bidi control.
 */
export function renderEarlyWarning(input: { proName: string; campaignName: string; audience: Audience; answers: Answers; roundUrl?: string; preferencesUrl?: string }) {
  const pro = isolate(input.proName);
  const campaign = isolate(input.campaignName);
  const { answers } = input;
  const who = AUDIENCE_NAMES[input.audience];
  const subject = truncate(`Early warning: ${who.toLowerCase()} rated your responsiveness ${answers.responsiveness}/5 on the ${oneLine(input.campaignName)}`, 150);
  const rows: [string, string][] = [
    [ITEM_LABELS.responsiveness, `${answers.responsiveness}/5 (${RESPONSIVENESS_LABELS[answers.responsiveness - 1]})`],
    ...(answers.recommend !== undefined ? [[ITEM_LABELS.recommend, `${answers.recommend}/10`] as [string, string]] : []),
    ...AUDIENCE_DIMENSIONS[input.audience].flatMap((d) => (answers[d] !== undefined ? [[ITEM_LABELS[d], `${answers[d]}/5`] as [string, string]] : [])),
  ];
  const comment = answers.improve ? isolate(answers.improve) : '';
  const intro = `${who} who worked with you on the ${campaign} just gave a low score. Who it was is not shared; a quick, open follow-up with the team often turns this around.`;
  const text = plainText([
    `Hi ${pro},`,
    '',
    intro,
    '',
    ...rows.map(([q, a]) => `- ${q}: ${a}`),
    ...(comment ? ['', `What could be better: “${comment}”`] : []),
    ...(input.roundUrl ? ['', `See the survey round in Rapport: ${input.roundUrl}`] : []),
    '',
    'You get these alerts because your agency turned on early warnings.',
    ...(input.preferencesUrl ? [`Stop these alerts: ${input.preferencesUrl}`] : []),
  ].join('\n'));
  const e = escapeHtml;
  const cell = `${FONT}font-size:15px;line-height:22px;color:#1f2937;${WRAP}`;
  const html = emailDocument({
    subject,
    preheader: intro,
    rows: [
      `<tr><td style="padding:0 0 12px 0;${cell}">Hi ${e(pro)},</td></tr>`,
      `<tr><td style="padding:0 0 12px 0;${cell}">${e(intro)}</td></tr>`,
      ...rows.map(([q, a]) => `<tr><td style="padding:0 0 6px 0;${cell}">${e(q)}: <strong>${e(a)}</strong></td></tr>`),
      ...(comment
        ? [`<tr><td style="padding:12px 0;${cell}"><div style="border-left:4px solid #b91c1c;padding:8px 12px;background-color:#fef2f2;">What could be better: “${e(comment)}”</div></td></tr>`]
        : []),
      ...(input.roundUrl
        ? [`<tr><td style="padding:0 0 12px 0;${cell}"><a href="${e(input.roundUrl)}" target="_blank" style="color:#1d4ed8;text-decoration:underline;">See the survey round in Rapport</a></td></tr>`]
        : []),
    ],
    footerHtml:
      'You get these alerts because your agency turned on early warnings.' +
      (input.preferencesUrl ? `<br><a href="${e(input.preferencesUrl)}" target="_blank" style="color:#374151;text-decoration:underline;">Stop these alerts</a>` : ''),
  });
  return { subject, text, html };
}

/** The console page of a round: where an early warning leads. */
export const roundUrl = (publicUrl: string, roundId: string) => `${publicUrl}/app/rounds/${roundId}`;

/**
 * Sends the pro an early warning for a low answer. The claim is a conditional put of a marker, so
 * a repeated or concurrent job warns once. On a named round the marker is the response's: one
 * warning, revisions included. On an anonymous round it is the submission's, and the k rule looks
 * at the deliveries made before that submission: whoever holds a link (quoted in a reply) and
 * submits through it then gets a warning exactly when a first answer would, so a warning never
 * tells whether, or what, its owner had answered. The claim is a mail claim (`mailClaim`): when SES
 * throttles or is out it is given back and the job queued again with backoff (`retries` counts);
 * when the worker dies or SES's answer is lost, the recovery sweep settles it from SES's record.
 */
export async function deliverEarlyWarning(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'early-warning' }>): Promise<DeliveryOutcome> {
  const opened = await openInvitation(deps.db, job).catch((e) => (e instanceof InvitationGoneError ? null : Promise.reject(e)));
  if (!opened) {
    // Its answer moved off this id with the erasure of its person: none is warned of; its due items go.
    for await (const items of queryAll(deps.db, { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :due)', ExpressionAttributeValues: { ':pk': keys.round(job.roundId).PK, ':due': `WDUE#${job.invitationId}#` } })) {
      for (const item of items) await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: { PK: item.PK as string, SK: item.SK as string } }));
    }
    return 'skipped';
  }
  const outcome = await warn(deps, job, opened);
  // Handled: the answer's due item goes (kept while the job waits to be tried again, in case it is lost).
  if (outcome !== 'retry' && opened.response) {
    await deps.db.doc.send(new DeleteCommand({ TableName: deps.db.table, Key: keys.warningDue(job.roundId, job.invitationId, opened.response.revision) }));
  }
  return outcome;
}

async function warn(deps: DeliveryDeps, job: Extract<SendJob, { kind: 'early-warning' }>, { round, response }: Awaited<ReturnType<typeof openInvitation>>): Promise<DeliveryOutcome> {
  const { db } = deps;
  if (!response || !round.earlyWarnings || !needsEarlyWarning(response.answers)) return 'skipped';
  // Stopped by the pro, by the link in an earlier one (or the pro is gone or deactivated): settled, never retried.
  const preferences: MailRecipient = { stream: 'earlyWarnings', agencyId: round.agencyId, proId: round.proId };
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.pro(round.agencyId, round.proId), ConsistentRead: true }));
  const pro = Item as Pro | undefined;
  if (!pro || !proReceives(pro, 'earlyWarnings')) return 'skipped';
  const anonymous = round.attribution === 'anonymous';
  if (anonymous) {
    const k = Math.max(promisedThreshold(round), (await getAgency(db, round.agencyId)).anonymityThreshold);
    if ((await deliveredBefore(db, round.roundId, response.audience, response.submittedAt)) < k) return 'skipped';
  }
  const marker = keys.earlyWarning(job.roundId, job.invitationId, anonymous ? response.revision : undefined);
  if (!(await claim(db, marker, job, deps.now()))) return 'not-due';
  const unsubscribeUrl = preferencesUrl(deps, preferences, deps.now());
  const content = renderEarlyWarning({ proName: round.proName, campaignName: round.campaignName, audience: response.audience, answers: response.answers, roundUrl: roundUrl(deps.publicUrl, round.roundId), preferencesUrl: unsubscribeUrl });
  const ref = mailRef(marker);
  const sent = await sendWithRetry(deps, {
    from: { name: senderName(round.agencyName), address: deps.mailFrom },
    // The pro's address now, not the round's copy: after an admin changed it, the old one may be anyone's.
    to: { name: pro.name, address: pro.email },
    ...content,
    text: withMailRef(content.text, ref),
    headers: listUnsubscribeHeaders(unsubscribeUrl),
    tags: mailTags(ref),
  });
  if (!('error' in sent)) {
    await mailSent(db, marker, deps.now(), sent.messageId);
    return 'sent';
  }
  if (sent.error.retryable && sent.error.notAccepted) {
    // SES took nothing: the claim is given back and the job tried again later, to warn once.
    if (!(await releaseMail(db, marker, undefined))) return 'not-due';
    if (!deps.requeue) throw sent.error;
    const retries = (job.retries ?? 0) + 1;
    await deps.requeue({ ...job, retries }, Math.round(retryDelaySeconds(retries)));
    return 'retry';
  }
  // SES may have taken it: the claim's lease runs out and SES's record settles it.
  if (sent.error.retryable) return 'in-doubt';
  deps.warn?.('email refused for good', { kind: 'early-warning', roundId: job.roundId, invitationId: job.invitationId, failure: sent.error.code });
  await mailFailed(db, marker, deps.now(), sent.error.code);
  return 'failed';
}

/**
 * Invitations of one audience in a round whose email had gone out (and not bounced) by the time
 * of the submission. An early warning on an anonymous round goes only where at least k
 * had: the pro cannot then tell which of them answered. Counting deliveries made after the answer
 * would let a round that first reached one person, and the others later, warn about that person.
 * One query of the round's partition, in the worker only.
 */
async function deliveredBefore(db: Db, roundId: string, audience: Audience, submittedAt: string): Promise<number> {
  let count = 0;
  for await (const items of queryAll(
    db,
    roundInvitationsQuery(roundId, {
      FilterExpression: 'audience = :audience AND sentAt <= :submittedAt AND #status <> :bounced',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':audience': audience, ':submittedAt': submittedAt, ':bounced': 'bounced' },
      ProjectionExpression: 'PK',
    }),
  )) {
    count += items.length;
  }
  return count;
}

async function claim(db: Db, marker: { PK: string; SK: string }, job: SendJob, now: Date): Promise<boolean> {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...marker, type: 'earlyWarning', at: iso(now), ...mailClaim(marker, job, now) },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}
