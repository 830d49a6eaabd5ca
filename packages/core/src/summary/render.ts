import { SUBJECT_MAX_LENGTH, type RenderedEmail } from '../email/invitation';
import { emailDocument, FONT, WRAP } from '../email/layout';
import { escapeHtml, isolate, oneLine, plainText, truncate } from '../email/text';
import { word, type Audience } from '../survey/instrument';
import type { AgencySummary, AgencySummaryRow, Figure, HeadlineFigure, ProSummary, TrendPoint } from './model';

/**
 * Summary emails, rendered from the model (./model.ts) and nothing else: HTML that every mail
 * client shows the same way, and a plain-text part with the same content.
 *
 * - Tables and inline styles only: no <style>, no SVG, no images, no script, nothing remote.
 *   One centred column of at most 600px (a fixed 600px table for Outlook's Word engine).
 * - The trend is horizontal bars: a table cell whose width is the score's share of 5.
 * - Plain words, each figure explained once ("How to read this", near the top): a figure reads
 *   "4.2 out of 5, from 12 answers, likely between 3.8 and 4.6" (its n and 95% interval). A
 *   withheld figure shows only its count ("3 answers, too few to show", "no answers"), never a number.
 * - A change is called only when the model says `up` or `down` (the intervals separate); when the
 *   period before has nothing to compare with, one sentence says so, once.
 * - The comments say how many there were and where the rest are (the agency's responses).
 * - Every string from the model is untrusted: names, labels and the commitment become one line,
 *   comments keep their line breaks but lose control characters, and all of it is HTML-escaped;
 *   long unbroken words wrap instead of widening the layout. Names, the commitment and comments
 *   are bidi-isolated in the HTML (`isolate`); no bidi control reaches the subject or text part.
 */

const e = escapeHtml;
const INK = '#1f2937';
const MUTED = '#6b7280';
const BAR = '#4f46e5';
const TRACK = '#e5e7eb';
/** Characters of the text part's bars, for a score of 5. */
const TEXT_BAR_WIDTH = 20;

const AUDIENCE_LABELS: Record<Audience, string> = { reporter: 'A reporter', colleague: 'A colleague', client: 'A client' };

type Unit = HeadlineFigure['unit'];

// ---------------------------------------------------------------- numbers

function number(value: number, unit: Unit): string {
  switch (unit) {
    case 'mean5':
      return value.toFixed(1);
    case 'percent':
      return `${Math.round(value)}%`;
    case 'nps': {
      const v = Math.round(value);
      return v > 0 ? `+${v}` : String(v);
    }
  }
}

/** "4.2 out of 5", "83%", "+42". */
export const valueText = (value: number, unit: Unit) => (unit === 'mean5' ? `${number(value, unit)} out of 5` : number(value, unit));

const answers = (n: number) => (n === 1 ? '1 answer' : `${n} answers`);

/** The words of figures, for the console to say them as the emails do: "4.2", "83%", "+42"; "12 answers". */
export { number as figureNumber, answers as answersText };

/**
 * A withheld figure in a few words: "no answers", or its count and that it is not shown
 * ("3 answers, too few to show"); why is said once, in "How to read this".
 */
export function withheldText(n: number): string {
  return n === 0 ? 'no answers' : `${answers(n)}, too few to show`;
}

/** Said once above the headline scores when none can be shown for having too few answers. */
function withheldNote(headline: HeadlineFigure[], k: number): string | null {
  return headline.every((h) => h.current.withheld) && headline.some((h) => h.current.n > 0)
    ? `Not enough answers to show yet: at least ${k} are needed, to keep them anonymous.`
    : null;
}

/** The figure's value, or null when withheld. */
const valueOf = (f: Figure): number | null => (f.withheld ? null : f.value);

/** A shown figure's basis: "from 12 answers, likely between 3.8 and 4.6". */
function basis(f: Extract<Figure, { withheld: false }>, unit: Unit): string {
  const range = f.ci ? `, likely between ${number(f.ci[0], unit)} and ${number(f.ci[1], unit)}` : ', too few for a likely range';
  return `from ${answers(f.n)}${range}`;
}

/** Whole figure on one line: "4.2 out of 5, from 12 answers, likely between 3.8 and 4.6", or the withheld words. */
function figureLine(f: Figure, unit: Unit): string {
  return f.withheld ? withheldText(f.n) : `${valueText(f.value, unit)}, ${basis(f, unit)}`;
}

/** The change against the period before, or null when one of the two is not shown (then `comparisonNote` may say so, once). */
function changeText(h: HeadlineFigure): string | null {
  if (h.change === 'up') return 'Up: a real change, the likely ranges do not overlap.';
  if (h.change === 'down') return 'Down: a real change, the likely ranges do not overlap.';
  if (h.current.withheld || !h.previous || h.previous.withheld) return null;
  return 'No clear change: the likely ranges overlap.';
}

/** One sentence, once, when no headline figure of the period before can be compared with. */
function comparisonNote(headline: HeadlineFigure[], previousLabel: string): string | null {
  if (headline.some((h) => h.previous && !h.previous.withheld)) return null;
  return headline.some((h) => h.previous && h.previous.n > 0)
    ? `Nothing to compare with: ${previousLabel} had too few answers to show.`
    : `Nothing to compare with: ${previousLabel} had no answers.`;
}

/** What every figure means, said once near the top of each summary. */
function howToRead(k: number, nps: boolean): string {
  return (
    'How to read this: scores run from 1 (very unresponsive) to 5 (exceptionally responsive). Each comes with the number of answers behind it ' +
    'and a likely range (95% confidence): the more answers, the narrower the range. A change is called only when the ranges of the two periods do not overlap. ' +
    (nps ? 'The Net Promoter Score is the share who would recommend you (9 or 10 out of 10) less the share who would not (0 to 6), from -100 to +100. ' : '') +
    `Scores from fewer than ${k} answers are not shown, to keep the people who answered anonymous.`
  );
}

function percentOf(value: number): string {
  return `${Math.round(value)}%`;
}

/** Comment text: line breaks kept (at most one blank line), control characters dropped. */
function commentLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n|\u2028|\u2029/)
    .map(oneLine)
    .filter((line, i, all) => line !== '' || (i > 0 && all[i - 1] !== ''))
    .join('\n')
    .trim()
    .split('\n');
}

/** `since` as a date a person reads ("14 February 2030"), or the text as given if it is no date. */
function dateLabel(value: string): string {
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) return oneLine(value);
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(parsed);
}

/** An absolute http(s) URL safe in an attribute, or null (then no link is shown). */
function safeUrl(value: string): string | null {
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  } catch {
    return null;
  }
  return /[\s\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>"]/.test(value) ? null : value;
}

function subjectLine(value: string): string {
  return truncate(oneLine(value), SUBJECT_MAX_LENGTH);
}

// ---------------------------------------------------------------- HTML building blocks

const heading = (text: string) =>
  `<tr><td style="padding:20px 0 8px 0;${FONT}font-size:18px;line-height:24px;font-weight:700;color:#111827;${WRAP}">${e(text)}</td></tr>`;

const paragraph = (html: string, style = '') =>
  `<tr><td style="padding:0 0 12px 0;${FONT}font-size:15px;line-height:22px;color:${INK};${WRAP}${style}">${html}</td></tr>`;

const small = (html: string) => paragraph(html, `font-size:13px;line-height:19px;color:${MUTED};`);

/** A full-width inner table (role=presentation) holding `rows`. */
const block = (rows: string[], style = '') =>
  `<tr><td style="padding:0 0 12px 0;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;${style}">${rows.join('')}</table></td></tr>`;

function quote(html: string): string {
  return block([
    `<tr><td style="padding:10px 14px;border-left:4px solid #a5b4fc;background-color:#f9fafb;${FONT}font-size:15px;line-height:22px;color:${INK};${WRAP}">${html}</td></tr>`,
  ]);
}

/** One horizontal bar: a track 100% wide with a filled cell `share` (0–1) of it. */
function bar(share: number | null): string {
  if (share === null) {
    return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;"><tr><td height="14" style="height:14px;border:1px dashed #d1d5db;font-size:0;line-height:0;">&nbsp;</td></tr></table>`;
  }
  const pct = Math.max(1, Math.min(100, Math.round(share * 100)));
  const rest = 100 - pct;
  return (
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;"><tr>` +
    `<td width="${pct}%" height="14" bgcolor="${BAR}" style="width:${pct}%;height:14px;background-color:${BAR};font-size:0;line-height:0;">&nbsp;</td>` +
    (rest > 0
      ? `<td width="${rest}%" height="14" bgcolor="${TRACK}" style="width:${rest}%;height:14px;background-color:${TRACK};font-size:0;line-height:0;">&nbsp;</td>`
      : '') +
    `</tr></table>`
  );
}

/** A trend month in a narrow cell: "4.2 · 12 answers, likely 3.8–4.6". */
function trendFigure(f: Extract<Figure, { withheld: false }>): string {
  return `${number(f.value, 'mean5')} · ${answers(f.n)}${f.ci ? `, likely ${number(f.ci[0], 'mean5')}–${number(f.ci[1], 'mean5')}` : ''}`;
}

/** The trend as rows: month, bar (share of 5), then the value with its answers and range, or the withheld words. */
function trendHtml(trend: TrendPoint[]): string {
  const cell = `${FONT}font-size:13px;line-height:18px;color:${INK};`;
  const rows = trend.map((p) => {
    const v = valueOf(p.figure);
    const label = `<td width="44" valign="middle" style="width:44px;padding:4px 8px 4px 0;${cell}font-weight:600;${WRAP}">${e(oneLine(p.label))}</td>`;
    const barCell = `<td valign="middle" style="padding:4px 0;">${bar(v === null ? null : v / 5)}</td>`;
    const text = p.figure.withheld ? withheldText(p.figure.n) : trendFigure(p.figure);
    const textCell = `<td width="140" valign="middle" style="width:140px;padding:4px 0 4px 10px;${cell}color:${v === null ? MUTED : INK};${WRAP}">${e(text)}</td>`;
    return `<tr>${label}${barCell}${textCell}</tr>`;
  });
  return block(rows, 'table-layout:fixed;');
}

/** The lines under a headline figure: its basis, the period before, the change (each only when there is one). */
function headlineLines(h: HeadlineFigure, previousLabel: string, comparable: boolean): { basis: string | null; before: string | null; change: string | null } {
  return {
    basis: h.current.withheld ? null : basis(h.current, h.unit),
    before: comparable && h.previous ? `${previousLabel}: ${figureLine(h.previous, h.unit)}` : null,
    change: changeText(h),
  };
}

function headlineHtml(h: HeadlineFigure, previousLabel: string, comparable: boolean): string {
  const big = h.current.withheld
    ? `<span style="font-size:15px;line-height:22px;font-weight:400;color:${MUTED};">${e(withheldText(h.current.n))}</span>`
    : e(valueText(h.current.value, h.unit));
  const { basis: basisLine, before, change } = headlineLines(h, previousLabel, comparable);
  const arrow = h.change === 'up' ? '▲ ' : h.change === 'down' ? '▼ ' : '';
  const changeColor = h.change === 'up' ? '#047857' : h.change === 'down' ? '#b91c1c' : MUTED;
  const lines = [
    ...(basisLine ? [{ html: e(basisLine), color: MUTED }] : []),
    ...(before ? [{ html: e(before), color: MUTED }] : []),
    ...(change ? [{ html: e(arrow + change), color: changeColor }] : []),
  ];
  return block(
    [
      `<tr><td style="padding:12px 14px 2px 14px;${FONT}font-size:14px;line-height:20px;font-weight:600;color:${MUTED};${WRAP}">${e(oneLine(h.label))}</td></tr>`,
      `<tr><td style="padding:0 14px ${lines.length ? 4 : 12}px 14px;${FONT}font-size:28px;line-height:34px;font-weight:700;color:#111827;${WRAP}">${big}</td></tr>`,
      ...lines.map(
        (line, i) =>
          `<tr><td style="padding:0 14px ${i === lines.length - 1 ? 12 : 2}px 14px;${FONT}font-size:13px;line-height:19px;color:${line.color};${WRAP}">${line.html}</td></tr>`,
      ),
    ],
    'border:1px solid #e5e7eb;border-radius:8px;',
  );
}

interface Page {
  subject: string;
  preheader: string;
  title: string;
  intro: string;
  body: string[];
  footer: string[];
  moreUrl: string;
  /** The recipient's preference link (`/m/{token}`), when sent: stop or change these emails. */
  preferencesUrl?: string | undefined;
}

/** The visible counterpart of the `List-Unsubscribe` header. */
export const PREFERENCES_TEXT = 'Stop or change these emails';

function page(p: Page): string {
  const url = safeUrl(p.moreUrl);
  const preferences = p.preferencesUrl ? safeUrl(p.preferencesUrl) : null;
  return emailDocument({
    subject: p.subject,
    preheader: p.preheader,
    rows: [
      `<tr><td style="padding:0 0 6px 0;${FONT}font-size:22px;line-height:28px;font-weight:700;color:#111827;${WRAP}">${e(p.title)}</td></tr>`,
      paragraph(e(p.intro)),
      ...p.body,
    ],
    footerHtml:
      p.footer.map(e).join('<br>') +
      (url ? `<br><a href="${e(url)}" target="_blank" style="color:#374151;text-decoration:underline;${WRAP}">See more in Rapport</a>` : '') +
      (preferences ? `<br><a href="${e(preferences)}" target="_blank" style="color:#374151;text-decoration:underline;${WRAP}">${e(PREFERENCES_TEXT)}</a>` : ''),
  });
}

/** The text part's links at the foot: more in Rapport, and the preference link. */
function footLinks(moreUrl: string, preferencesUrl: string | undefined): string[] {
  const preferences = preferencesUrl ? safeUrl(preferencesUrl) : null;
  return [...(safeUrl(moreUrl) ? [`See more in Rapport: ${moreUrl}`] : []), ...(preferences ? [`${PREFERENCES_TEXT}: ${preferences}`] : [])];
}

function footerLines(agencyName: string): string[] {
  return [`Sent by Rapport for ${agencyName}.`];
}

// ---------------------------------------------------------------- the pro's summary

/**
 * A pro's improvement summary: headline scores against the previous period, the trend, the
 * response rate, the weakest dimension with its tips, up to three comments and the commitment.
 */
export function renderProSummary(model: ProSummary, preferencesUrl?: string): RenderedEmail {
  const k = model.anonymityThreshold;
  const pro = isolate(model.pro.name);
  const agency = isolate(model.agencyName);
  const period = oneLine(model.period.label);
  const previousLabel = oneLine(model.previousPeriodLabel);

  const head = model.headline.find((h) => h.key === 'responsiveness');
  const subject =
    head && !head.current.withheld
      ? subjectLine(`Your responsiveness in ${period}: ${valueText(head.current.value, 'mean5')} from ${answers(head.current.n)}`)
      : subjectLine(`Your Rapport summary for ${period}`);

  const title = `Your responsiveness, ${period}`;
  const intro = `Hi ${pro}, here is how the reporters, colleagues and clients you worked with rated you in ${period}, compared with ${previousLabel}.`;
  const reading = howToRead(k, model.headline.some((h) => h.key === 'nps'));
  const notes = [withheldNote(model.headline, k), comparisonNote(model.headline, previousLabel)].filter((n): n is string => n !== null);
  const comparable = comparisonNote(model.headline, previousLabel) === null;

  const rr = model.responseRate;
  // Answers count in the month of their batch: a pooled batch released now holds answers to earlier
  // months' invitations, so they can outnumber this period's invitations; then no rate is given.
  const rateText =
    rr.percent === null
      ? 'No survey invitations were delivered in this period.'
      : rr.responses > rr.delivered
        ? `${answers(rr.responses)} counted this period, some to earlier surveys (held back until enough people had answered), and ${rr.delivered} invitations delivered.`
        : `${rr.responses} of ${rr.delivered} delivered invitations were answered (${percentOf(rr.percent)}).`;

  const weakest = model.weakest;
  const weakestIntro = weakest
    ? `${oneLine(weakest.label)}: ${weakest.mean.toFixed(1)} out of 5 from ${answers(weakest.n)}, your lowest score this period.`
    : `No part of the survey had at least ${k} answers this period, so there is no focus area yet.`;
  const weakestQuestion = weakest ? `The statement they rated: “${word(weakest.dimension, pro)}”` : '';
  const tips = weakest?.tips.map((t) => oneLine(t.text)) ?? [];

  const comments = model.comments.slice(0, 3).map((c) => ({ who: AUDIENCE_LABELS[c.audience] ?? 'Someone', lines: commentLines(c.text) }));
  const total = Math.max(model.commentCount, comments.length);
  // Where the comments are: the pro sees a few; the agency reads them all in its responses (API and CSV export).
  const commentsWhere =
    total > comments.length
      ? `The latest ${comments.length} of ${total} comments this period, without names. Your agency can read all ${total} in Rapport's responses export.`
      : `${total === 1 ? 'The one comment' : `All ${total} comments`} this period, without names. Your agency can also read ${total === 1 ? 'it' : 'them'} in Rapport's responses export.`;
  const commitment = model.commitment
    ? {
        text: isolate(model.commitment.text),
        since: dateLabel(model.commitment.since),
        score: `Responsiveness since then: ${figureLine(model.commitment.responsiveness, 'mean5')}`,
      }
    : null;
  const footer = footerLines(agency);

  // ---- text part
  const textBar = (v: number | null) => {
    if (v === null) return ' '.repeat(TEXT_BAR_WIDTH);
    const filled = Math.max(1, Math.min(TEXT_BAR_WIDTH, Math.round((v / 5) * TEXT_BAR_WIDTH)));
    return '█'.repeat(filled) + '░'.repeat(TEXT_BAR_WIDTH - filled);
  };
  const text = plainText([
    title,
    '',
    intro,
    '',
    reading,
    '',
    'HEADLINE SCORES',
    ...notes,
    ...model.headline.flatMap((h) => {
      const lines = headlineLines(h, previousLabel, comparable);
      return [
        `${oneLine(h.label)}: ${figureLine(h.current, h.unit)}`,
        ...(lines.before ? [`  ${lines.before}`] : []),
        ...(lines.change ? [`  ${lines.change}`] : []),
      ];
    }),
    '',
    'MONTH BY MONTH (responsiveness, out of 5)',
    ...model.trend.map((p) => `${oneLine(p.label).padEnd(4)} ${textBar(valueOf(p.figure))}  ${p.figure.withheld ? withheldText(p.figure.n) : trendFigure(p.figure)}`),
    '',
    'RESPONSE RATE',
    rateText,
    '',
    'WHERE TO FOCUS',
    weakestIntro,
    ...(weakest ? [weakestQuestion, '', 'What to try next:', ...tips.map((t, i) => `${i + 1}. ${t}`)] : []),
    ...(comments.length
      ? ['', 'WHAT PEOPLE SAID', commentsWhere, '', ...comments.flatMap((c) => [`${c.who}:`, ...c.lines.map((l) => (l ? `  ${l}` : '')), ''])]
      : ['']),
    ...(commitment ? ['YOUR COMMITMENT', `Since ${commitment.since}: “${commitment.text}”`, commitment.score, ''] : []),
    '--',
    ...footer,
    ...footLinks(model.moreUrl, preferencesUrl),
    '',
  ].join('\n'));

  // ---- HTML part
  const body = [
    small(e(reading)),
    heading('Headline scores'),
    ...notes.map((n) => paragraph(e(n))),
    ...model.headline.map((h) => headlineHtml(h, previousLabel, comparable)),
    heading('Month by month'),
    small(e('Your responsiveness each month, out of 5; each bar fills the share of 5.')),
    model.trend.length ? trendHtml(model.trend) : paragraph(e('No months to show yet.')),
    heading('Response rate'),
    paragraph(e(rateText)),
    heading('Where to focus'),
    paragraph(e(weakestIntro)),
    ...(weakest
      ? [
          small(e(weakestQuestion)),
          paragraph(e('What to try next:'), 'padding-bottom:6px;font-weight:600;'),
          block(
            tips.map(
              (t, i) =>
                `<tr><td width="28" valign="top" style="width:28px;padding:0 0 10px 0;${FONT}font-size:15px;line-height:22px;font-weight:700;color:${BAR};">${i + 1}.</td>` +
                `<td valign="top" style="padding:0 0 10px 0;${FONT}font-size:15px;line-height:22px;color:${INK};${WRAP}">${e(t)}</td></tr>`,
            ),
            'table-layout:fixed;',
          ),
        ]
      : []),
    ...(comments.length
      ? [
          heading('What people said'),
          small(e(commentsWhere)),
          ...comments.map((c) =>
            quote(
              `<span style="font-size:13px;font-weight:600;color:${MUTED};">${e(c.who)}</span><br>${c.lines.map((l) => e(isolate(l))).join('<br>')}`,
            ),
          ),
        ]
      : []),
    ...(commitment
      ? [heading('Your commitment'), small(e(`Since ${commitment.since}`)), quote(e(`“${commitment.text}”`)), small(e(commitment.score))]
      : []),
  ];

  const html = page({
    subject,
    preheader: weakest ? `Focus on: ${oneLine(weakest.label)}. ${rateText}` : rateText,
    title,
    intro,
    body,
    footer,
    moreUrl: model.moreUrl,
    preferencesUrl,
  });
  return { subject, html, text };
}

// ---------------------------------------------------------------- the agency's summary

function rowSummary(r: AgencySummaryRow, previousLabel: string): string {
  const now = figureLine(r.responsiveness, 'mean5');
  const before = r.previous ? `; ${previousLabel}: ${figureLine(r.previous, 'mean5')}` : '';
  const change = r.change === 'up' ? '; up, a real change' : r.change === 'down' ? '; down, a real change' : '';
  return `${isolate(r.name)}: ${now}${before}${change}`;
}

function rowList(rows: AgencySummaryRow[], previousLabel: string): string {
  return block(
    rows.map(
      (r) =>
        `<tr><td width="20" valign="top" style="width:20px;padding:0 0 8px 0;${FONT}font-size:15px;line-height:22px;color:${MUTED};">•</td>` +
        `<td valign="top" style="padding:0 0 8px 0;${FONT}font-size:15px;line-height:22px;color:${INK};${WRAP}">${e(rowSummary(r, previousLabel))}</td></tr>`,
    ),
    'table-layout:fixed;',
  );
}

function changeWord(c: 'up' | 'down' | 'none'): string {
  return c === 'up' ? '▲ up' : c === 'down' ? '▼ down' : '–';
}

/** The admins' summary: who needs attention, the biggest movers, then the whole team. */
export function renderAgencySummary(model: AgencySummary, preferencesUrl?: string): RenderedEmail {
  const k = model.anonymityThreshold;
  const agency = isolate(model.agencyName);
  const period = oneLine(model.period.label);
  const previousLabel = oneLine(model.previousPeriodLabel);
  const subject = subjectLine(`${oneLine(model.agencyName)}: team responsiveness in ${period}`);
  const title = `Team responsiveness, ${period}`;
  const intro = `How the reporters, colleagues and clients of ${agency} rated your team in ${period}, compared with ${previousLabel}.`;
  const reading = howToRead(k, false);
  const footer = footerLines(agency);
  const none = (what: string) => `No ${what} this period.`;

  const text = plainText([
    title,
    '',
    intro,
    '',
    reading,
    '',
    'NEEDS ATTENTION (below 3 out of 5, or down)',
    ...(model.needAttention.length ? model.needAttention.map((r) => `- ${rowSummary(r, previousLabel)}`) : [none('pros need attention')]),
    '',
    'BIGGEST MOVERS',
    ...(model.movers.length ? model.movers.map((r) => `- ${rowSummary(r, previousLabel)}`) : [none('real changes')]),
    '',
    'TEAM',
    ...(model.team.length ? model.team.map((r) => `- ${rowSummary(r, previousLabel)}`) : [none('answers')]),
    '',
    '--',
    ...footer,
    ...footLinks(model.moreUrl, preferencesUrl),
    '',
  ].join('\n'));

  const th = (label: string, width: string, align = 'left') =>
    `<th align="${align}" width="${width}" style="width:${width};padding:6px 6px 6px 0;border-bottom:1px solid #d1d5db;${FONT}font-size:12px;line-height:16px;font-weight:600;color:${MUTED};text-align:${align};word-break:normal;overflow-wrap:normal;hyphens:none;">${e(label)}</th>`;
  const td = (html: string, align = 'left', style = '') =>
    `<td align="${align}" valign="top" style="padding:8px 6px 8px 0;border-bottom:1px solid #f3f4f6;${FONT}font-size:13px;line-height:18px;color:${INK};text-align:${align};${WRAP}${style}">${html}</td>`;
  const cellFigure = (f: Figure | null) => {
    if (!f) return `<span style="color:${MUTED};">–</span>`;
    if (f.withheld) return `<span style="color:${MUTED};">${e(withheldText(f.n))}</span>`;
    return `<strong>${e(number(f.value, 'mean5'))}</strong><br><span style="color:${MUTED};">${e(basis(f, 'mean5'))}</span>`;
  };
  const teamTable = model.team.length
    ? block(
        [
          `<tr>${th('Pro', '24%')}${th(period, '28%')}${th(previousLabel, '28%')}${th('Change', '20%')}</tr>`,
          ...model.team.map(
            (r) =>
              `<tr>${td(e(isolate(r.name)), 'left', 'font-weight:600;')}${td(cellFigure(r.responsiveness))}${td(cellFigure(r.previous))}` +
              `${td(e(changeWord(r.change)), 'left', `color:${r.change === 'up' ? '#047857' : r.change === 'down' ? '#b91c1c' : MUTED};`)}</tr>`,
          ),
        ],
        'table-layout:fixed;',
      )
    : paragraph(e(none('answers')));

  const body = [
    small(e(reading)),
    heading('Needs attention'),
    small(e('Pros scoring below 3 out of 5, or with a real drop, among those with enough answers to show.')),
    model.needAttention.length ? rowList(model.needAttention, previousLabel) : paragraph(e(none('pros need attention'))),
    heading('Biggest movers'),
    model.movers.length ? rowList(model.movers, previousLabel) : paragraph(e(none('real changes'))),
    heading('Team'),
    teamTable,
  ];

  const html = page({
    subject,
    preheader: `${model.needAttention.length} need attention, ${model.movers.length} moved, ${model.team.length} on the team.`,
    title,
    intro,
    body,
    footer,
    moreUrl: model.moreUrl,
    preferencesUrl,
  });
  return { subject, html, text };
}
