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
 * - Every figure shows its n and, where there is one, its 95% interval. A withheld figure shows
 *   only its n and why ("fewer than k: hidden for anonymity"), never a number.
 * - A change is called only when the model says `up` or `down` (the intervals separate).
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

function interval(ci: [number, number], unit: Unit): string {
  return `95% interval ${number(ci[0], unit)} to ${number(ci[1], unit)}`;
}

/** "n = 2 (fewer than 5: hidden for anonymity)": the only thing a withheld figure says. */
export function withheldText(n: number, k: number): string {
  return `n = ${n} (fewer than ${k}: hidden for anonymity)`;
}

/** The figure's value, or null when withheld. */
const valueOf = (f: Figure): number | null => (f.withheld ? null : f.value);

/** The figure's n and interval, e.g. "n = 12, 95% interval 3.8 to 4.6". */
function details(f: Figure, unit: Unit, k: number): string {
  if (f.withheld) return withheldText(f.n, k);
  return f.ci ? `n = ${f.n}, ${interval(f.ci, unit)}` : `n = ${f.n}, no interval with so few answers`;
}

/** Whole figure on one line: "4.2 (n = 12, 95% interval 3.8 to 4.6)" or the withheld text. */
function figureLine(f: Figure, unit: Unit, k: number): string {
  return f.withheld ? withheldText(f.n, k) : `${number(f.value, unit)} (${details(f, unit, k)})`;
}

function changeText(change: 'up' | 'down' | 'none', previous: Figure | null, previousLabel: string): string {
  if (change === 'up') return `Up since ${previousLabel}: the intervals do not overlap.`;
  if (change === 'down') return `Down since ${previousLabel}: the intervals do not overlap.`;
  if (!previous) return `No comparison: nothing to compare with in ${previousLabel}.`;
  if (previous.withheld) return `No comparison: ${previousLabel} had too few answers to show.`;
  return `No clear change since ${previousLabel}: the intervals overlap.`;
}

function percentOf(rate: number): string {
  return `${Math.round(rate * 100)}%`;
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

/** A trend month in a narrow cell: "4.2 (n = 12, 3.8–4.6)", the interval being the 95% one. */
function trendFigure(f: Figure): string {
  if (f.withheld) return '';
  return `${number(f.value, 'mean5')} (n = ${f.n}${f.ci ? `, ${number(f.ci[0], 'mean5')}–${number(f.ci[1], 'mean5')}` : ''})`;
}

/** The trend as rows: month, bar (share of 5), then the value with n and interval, or the withheld text. */
function trendHtml(trend: TrendPoint[], k: number): string {
  const cell = `${FONT}font-size:13px;line-height:18px;color:${INK};`;
  const rows = trend.map((p) => {
    const v = valueOf(p.figure);
    const label = `<td width="44" valign="middle" style="width:44px;padding:4px 8px 4px 0;${cell}font-weight:600;${WRAP}">${e(oneLine(p.label))}</td>`;
    const barCell = `<td valign="middle" style="padding:4px 0;">${bar(v === null ? null : v / 5)}</td>`;
    const text = v === null ? withheldText(p.figure.n, k) : trendFigure(p.figure);
    const textCell = `<td width="140" valign="middle" style="width:140px;padding:4px 0 4px 10px;${cell}color:${v === null ? MUTED : INK};${WRAP}">${e(text)}</td>`;
    return `<tr>${label}${barCell}${textCell}</tr>`;
  });
  return block(rows, 'table-layout:fixed;');
}

function headlineHtml(h: HeadlineFigure, previousLabel: string, k: number): string {
  const big = h.current.withheld
    ? `<span style="font-size:15px;line-height:22px;font-weight:400;color:${MUTED};">${e(withheldText(h.current.n, k))}</span>`
    : e(number(h.current.value, h.unit));
  const lines = [
    h.current.withheld ? '' : details(h.current, h.unit, k),
    h.previous ? `${previousLabel}: ${figureLine(h.previous, h.unit, k)}` : '',
    changeText(h.change, h.previous, previousLabel),
  ].filter(Boolean);
  const arrow = h.change === 'up' ? '▲ ' : h.change === 'down' ? '▼ ' : '';
  const changeColor = h.change === 'up' ? '#047857' : h.change === 'down' ? '#b91c1c' : MUTED;
  return block(
    [
      `<tr><td style="padding:12px 14px 2px 14px;${FONT}font-size:14px;line-height:20px;font-weight:600;color:${MUTED};${WRAP}">${e(oneLine(h.label))}</td></tr>`,
      `<tr><td style="padding:0 14px 4px 14px;${FONT}font-size:28px;line-height:34px;font-weight:700;color:#111827;${WRAP}">${big}</td></tr>`,
      ...lines.map(
        (line, i) =>
          `<tr><td style="padding:0 14px ${i === lines.length - 1 ? 12 : 2}px 14px;${FONT}font-size:13px;line-height:19px;color:${i === lines.length - 1 ? changeColor : MUTED};${WRAP}">${i === lines.length - 1 ? e(arrow) : ''}${e(line)}</td></tr>`,
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

function footerLines(agencyName: string, k: number): string[] {
  return [
    `Sent by Rapport for ${agencyName}.`,
    `Every figure shows how many answers it rests on (n). Groups with fewer than ${k} answers show only that count, to keep respondents anonymous.`,
    'A change is called a change only when the 95% intervals of the two periods do not overlap.',
  ];
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
      ? subjectLine(`Your responsiveness in ${period}: ${number(head.current.value, 'mean5')} (n = ${head.current.n})`)
      : subjectLine(`Your Rapport summary for ${period}`);

  const title = `Your responsiveness, ${period}`;
  const intro = `Hi ${pro}, here is how the reporters, colleagues and clients you worked with rated you in ${period}, compared with ${previousLabel}.`;

  const rr = model.responseRate;
  const rateText =
    rr.rate === null
      ? 'No survey invitations were delivered in this period.'
      : `${rr.responses} of ${rr.delivered} delivered invitations were answered (${percentOf(rr.rate)}).`;

  const weakest = model.weakest;
  const weakestIntro = weakest
    ? `${oneLine(weakest.label)}: ${weakest.mean.toFixed(1)} out of 5 (n = ${weakest.n}), your lowest score this period.`
    : `No dimension had at least ${k} answers this period, so there is no focus area yet.`;
  const weakestQuestion = weakest ? `The statement they rated: “${word(weakest.dimension, pro)}”` : '';
  const tips = weakest?.tips.map((t) => oneLine(t.text)) ?? [];

  const comments = model.comments.slice(0, 3).map((c) => ({ who: AUDIENCE_LABELS[c.audience] ?? 'Someone', lines: commentLines(c.text) }));
  const commitment = model.commitment
    ? {
        text: isolate(model.commitment.text),
        since: dateLabel(model.commitment.since),
        score: `Responsiveness since then: ${figureLine(model.commitment.responsiveness, 'mean5', k)}`,
      }
    : null;
  const footer = footerLines(agency, k);

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
    'HEADLINE SCORES',
    ...model.headline.flatMap((h) => [
      `${oneLine(h.label)}: ${figureLine(h.current, h.unit, k)}`,
      ...(h.previous ? [`  ${previousLabel}: ${figureLine(h.previous, h.unit, k)}`] : []),
      `  ${changeText(h.change, h.previous, previousLabel)}`,
    ]),
    '',
    'TREND (mean responsiveness, 1–5)',
    ...model.trend.map((p) => {
      const v = valueOf(p.figure);
      return `${oneLine(p.label).padEnd(4)} ${textBar(v)}  ${v === null ? withheldText(p.figure.n, k) : figureLine(p.figure, 'mean5', k)}`;
    }),
    '',
    'RESPONSE RATE',
    rateText,
    '',
    'WHERE TO FOCUS',
    weakestIntro,
    ...(weakest ? [weakestQuestion, '', 'What to try next:', ...tips.map((t, i) => `${i + 1}. ${t}`)] : []),
    ...(comments.length
      ? ['', 'WHAT PEOPLE SAID', ...comments.flatMap((c) => [`${c.who}:`, ...c.lines.map((l) => (l ? `  ${l}` : '')), ''])]
      : ['']),
    ...(commitment ? ['YOUR COMMITMENT', `Since ${commitment.since}: “${commitment.text}”`, commitment.score, ''] : []),
    '--',
    ...footer,
    ...footLinks(model.moreUrl, preferencesUrl),
    '',
  ].join('\n'));

  // ---- HTML part
  const body = [
    heading('Headline scores'),
    ...model.headline.map((h) => headlineHtml(h, previousLabel, k)),
    heading('Trend'),
    small(e('Mean responsiveness per month (1–5), with n and the 95% interval in brackets; each bar shows the share of 5.')),
    model.trend.length ? trendHtml(model.trend, k) : paragraph(e('No months to show yet.')),
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

function rowSummary(r: AgencySummaryRow, k: number, previousWord = 'before'): string {
  const now = figureLine(r.responsiveness, 'mean5', k);
  const before = r.previous ? `; ${previousWord}: ${figureLine(r.previous, 'mean5', k)}` : '';
  const change = r.change === 'up' ? '; up (intervals separate)' : r.change === 'down' ? '; down (intervals separate)' : '';
  return `${isolate(r.name)}: ${now}${before}${change}`;
}

function rowList(rows: AgencySummaryRow[], k: number): string {
  return block(
    rows.map(
      (r) =>
        `<tr><td width="20" valign="top" style="width:20px;padding:0 0 8px 0;${FONT}font-size:15px;line-height:22px;color:${MUTED};">•</td>` +
        `<td valign="top" style="padding:0 0 8px 0;${FONT}font-size:15px;line-height:22px;color:${INK};${WRAP}">${e(rowSummary(r, k))}</td></tr>`,
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
  const subject = subjectLine(`${oneLine(model.agencyName)}: team responsiveness in ${period}`);
  const title = `Team responsiveness, ${period}`;
  const intro = `How the reporters, colleagues and clients of ${agency} rated your team in ${period}, compared with the period before.`;
  const footer = footerLines(agency, k);
  const none = (what: string) => `No ${what} this period.`;

  const text = plainText([
    title,
    '',
    intro,
    '',
    'NEEDS ATTENTION (mean below 3, or down)',
    ...(model.needAttention.length ? model.needAttention.map((r) => `- ${rowSummary(r, k)}`) : [none('pros need attention')]),
    '',
    'BIGGEST MOVERS',
    ...(model.movers.length ? model.movers.map((r) => `- ${rowSummary(r, k)}`) : [none('separated changes')]),
    '',
    'TEAM',
    ...(model.team.length
      ? model.team.map((r) => `- ${rowSummary(r, k)}; ${r.responses} response${r.responses === 1 ? '' : 's'}`)
      : [none('responses')]),
    '',
    '--',
    ...footer,
    ...footLinks(model.moreUrl, preferencesUrl),
    '',
  ].join('\n'));

  const th = (label: string, width: string, align = 'left') =>
    `<th align="${align}" width="${width}" style="width:${width};padding:6px 6px 6px 0;border-bottom:1px solid #d1d5db;${FONT}font-size:12px;line-height:16px;font-weight:600;color:${MUTED};text-align:${align};${WRAP}">${e(label)}</th>`;
  const td = (html: string, align = 'left', style = '') =>
    `<td align="${align}" valign="top" style="padding:8px 6px 8px 0;border-bottom:1px solid #f3f4f6;${FONT}font-size:13px;line-height:18px;color:${INK};text-align:${align};${WRAP}${style}">${html}</td>`;
  const cellFigure = (f: Figure | null) => {
    if (!f) return `<span style="color:${MUTED};">–</span>`;
    if (f.withheld) return `<span style="color:${MUTED};">${e(withheldText(f.n, k))}</span>`;
    return `<strong>${e(number(f.value, 'mean5'))}</strong><br><span style="color:${MUTED};">${e(details(f, 'mean5', k))}</span>`;
  };
  const teamTable = model.team.length
    ? block(
        [
          `<tr>${th('Pro', '24%')}${th('This period', '28%')}${th('Before', '22%')}${th('Change', '12%')}${th('Answers', '14%', 'right')}</tr>`,
          ...model.team.map(
            (r) =>
              `<tr>${td(e(isolate(r.name)), 'left', 'font-weight:600;')}${td(cellFigure(r.responsiveness))}${td(cellFigure(r.previous))}` +
              `${td(e(changeWord(r.change)), 'left', `color:${r.change === 'up' ? '#047857' : r.change === 'down' ? '#b91c1c' : MUTED};`)}${td(e(String(r.responses)), 'right')}</tr>`,
          ),
        ],
        'table-layout:fixed;',
      )
    : paragraph(e(none('responses')));

  const body = [
    heading('Needs attention'),
    small(e('Mean responsiveness below 3, or a drop whose intervals separate, among pros with enough answers to show.')),
    model.needAttention.length ? rowList(model.needAttention, k) : paragraph(e(none('pros need attention'))),
    heading('Biggest movers'),
    model.movers.length ? rowList(model.movers, k) : paragraph(e(none('separated changes'))),
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
