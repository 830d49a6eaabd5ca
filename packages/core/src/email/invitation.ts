import { RESPONSIVENESS_LABELS, WORDING, type Audience } from '../survey/instrument';
import { emailDocument, FONT, WRAP } from './layout';
import { escapeHtml, isolate, oneLine, plainText, truncate } from './text';

export interface InvitationInput {
  proName: string;
  /** The pro's agency, named in the email; absent on rounds from before the round kept it. */
  agencyName?: string | undefined;
  campaignName: string;
  recipientName?: string | undefined;
  audience: Audience;
  /** `named`: the answer is shared with the pro's team with the respondent's name. */
  attribution: 'anonymous' | 'named';
  /** The invitation's personal link, without a query; score links add `?score=1..5`. */
  surveyUrl: string;
  /** The visible unsubscribe link (the page at `/u/{token}`). */
  unsubscribeUrl: string;
  kind: 'invitation' | 'reminder';
  /** What the pro said they will change after the last round, if anything. */
  commitment?: string | undefined;
  /** The recipient answered this pro before (`Invitation.returning`): only then is the commitment "what you told us". */
  returning?: boolean | undefined;
}

const TITLES = /^(dr|prof|mr|mrs|ms|mx|sir|dame)\.?$/i;

/**
 * What the greeting calls the recipient: the first word of the name given ("Jane Doe": Jane), or,
 * when that word is a title, the title and the last word ("Dr. Jane Doe": Dr. Doe). Empty without
 * a name. A name written surname first ("Doe Jane") is greeted by its first word all the same.
 */
export function greetingName(name: string | undefined): string {
  const words = oneLine(name ?? '').split(' ').filter(Boolean);
  if (words.length > 1 && TITLES.test(words[0]!)) return `${words[0]} ${words[words.length - 1]}`;
  return words[0] ?? '';
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Subjects are capped here (in characters, the ellipsis included) so that clients show them whole. */
export const SUBJECT_MAX_LENGTH = 150;

export const SCORE_LINK_NOTE = 'Clicking a score opens the survey with it selected; nothing is recorded until you submit.';
export const UNSUBSCRIBE_TEXT = 'Unsubscribe from these surveys';

/**
 * `List-Unsubscribe` with a one-click URL and `List-Unsubscribe-Post` (RFC 8058): mailbox
 * providers show an unsubscribe button and POST `List-Unsubscribe=One-Click` to the URL.
 */
export function listUnsubscribeHeaders(oneClickUrl: string): { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': string } {
  const url = httpUrl('oneClickUrl', oneClickUrl);
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/** What a reminder's subject starts with (and the first email's does not). */
export const REMINDER_PREFIX = 'Reminder: ';

/**
 * The invitation (or reminder) email: the headline question with five one-click score links, a
 * plain-text part with the same content, and a visible unsubscribe link. A click only opens the
 * survey with the score selected (link scanners click everything); the answer is stored on submit.
 *
 * Every input is treated as untrusted: names, campaign and commitment become one line (control
 * and bidi control characters and line breaks are dropped or collapsed), are bidi-isolated in the
 * HTML (`isolate`) and HTML-escaped; URLs are checked to be absolute http(s) and escaped in
 * attributes. The subject is a single line of at most 150 characters.
 */
export function renderInvitation(input: InvitationInput): RenderedEmail {
  const pro = isolate(input.proName);
  const campaign = isolate(input.campaignName);
  const recipient = isolate(greetingName(input.recipientName));
  const agency = isolate(input.agencyName ?? '');
  const commitment = isolate(input.commitment ?? '');
  const surveyUrl = httpUrl('surveyUrl', input.surveyUrl);
  if (/[?#]/.test(surveyUrl)) throw new TypeError('surveyUrl: must not carry a query or a fragment');
  const unsubscribeUrl = httpUrl('unsubscribeUrl', input.unsubscribeUrl);

  const prefix = input.kind === 'reminder' ? REMINDER_PREFIX : '';
  const subject = truncate(oneLine(`${prefix}How responsive was ${oneLine(input.proName)} on the ${oneLine(input.campaignName)}?`), SUBJECT_MAX_LENGTH);

  const greeting = recipient ? `Hi ${recipient},` : 'Hello,';
  const privacy =
    input.attribution === 'named'
      ? `your answer will be shared with ${pro}'s team, with your name`
      : 'your answer is anonymous';
  const proAt = agency ? `${pro} at ${agency}` : pro;
  const why = `${input.kind === 'reminder' ? 'A quick reminder: ' : ''}${proAt} wants to improve and would value your view of working together on the ${campaign}; it takes a minute, and ${privacy}.`;
  // split/join rather than String.replace: a name containing `$&` or `$'` must stay literal.
  const question = WORDING.responsiveness.split('{pro}').join(pro);
  const scores = RESPONSIVENESS_LABELS.map((label, i) => ({
    label: `${i + 1} – ${label}`,
    url: `${surveyUrl}?score=${i + 1}`,
  }));
  const commitmentLine = !commitment
    ? ''
    : input.returning
      ? `Last time you told us what could be better; here is what ${pro} is changing: “${commitment}”`
      : `After earlier feedback, ${pro} is working on this: “${commitment}”`;
  const footer = `You are receiving this because you worked with ${proAt} on the ${campaign}.`;

  const text = plainText([
    greeting,
    '',
    why,
    '',
    question,
    '',
    ...scores.map((s) => `${s.label}: ${s.url}`),
    '',
    SCORE_LINK_NOTE,
    ...(commitmentLine ? ['', commitmentLine] : []),
    '',
    '--',
    footer,
    `${UNSUBSCRIBE_TEXT}: ${unsubscribeUrl}`,
    '',
  ].join('\n'));

  const html = renderHtml({ subject, greeting, why, question, scores, commitmentLine, footer, unsubscribeUrl });
  return { subject, text, html };
}

interface HtmlParts {
  subject: string;
  greeting: string;
  why: string;
  question: string;
  scores: { label: string; url: string }[];
  commitmentLine: string;
  footer: string;
  unsubscribeUrl: string;
}

/** The shared email document (see ./layout.ts) with full-width score buttons at least 48px tall. All values are escaped here. */
function renderHtml(p: HtmlParts): string {
  const e = escapeHtml;
  const paragraph = (content: string, style = '') =>
    `<tr><td style="padding:0 0 16px 0;${FONT}font-size:16px;line-height:24px;color:#1f2937;${style}">${content}</td></tr>`;
  const button = (s: { label: string; url: string }) =>
    `<tr><td style="padding:0 0 10px 0;">` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:separate;">` +
    `<tr><td bgcolor="#eef2ff" style="background-color:#eef2ff;border:1px solid #c7d2fe;border-radius:8px;">` +
    `<a href="${e(s.url)}" target="_blank" style="display:block;padding:14px 18px;${FONT}font-size:17px;line-height:22px;font-weight:600;color:#1e3a8a;text-decoration:none;border-radius:8px;">${e(s.label)}</a>` +
    `</td></tr></table></td></tr>`;

  return emailDocument({
    subject: p.subject,
    preheader: p.question,
    rows: [
      paragraph(e(p.greeting)),
      paragraph(e(p.why)),
      `<tr><td style="padding:8px 0 16px 0;${FONT}font-size:20px;line-height:28px;font-weight:700;color:#111827;">${e(p.question)}</td></tr>`,
      ...p.scores.map(button),
      paragraph(e(SCORE_LINK_NOTE), 'padding-top:6px;font-size:14px;line-height:20px;color:#4b5563;'),
      ...(p.commitmentLine
        ? [
            `<tr><td style="padding:0 0 16px 0;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>` +
              `<td style="padding:12px 16px;border-left:4px solid #6366f1;background-color:#f9fafb;${FONT}font-size:15px;line-height:22px;color:#1f2937;${WRAP}">${e(p.commitmentLine)}</td>` +
              `</tr></table></td></tr>`,
          ]
        : []),
    ],
    footerHtml: `${e(p.footer)}<br><a href="${e(p.unsubscribeUrl)}" target="_blank" style="color:#374151;text-decoration:underline;">${e(UNSUBSCRIBE_TEXT)}</a>`,
  });
}

/** An absolute http(s) URL with nothing that could break out of `<…>` or an attribute. */
function httpUrl(field: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new TypeError(`${field}: not an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError(`${field}: must be http(s)`);
  if (/[\s\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>"]/.test(value)) throw new TypeError(`${field}: contains characters a URL may not`);
  return value;
}
