import type { Child } from 'hono/jsx';
import {
  answersText,
  figure,
  figureNumber,
  valueText,
  withheldText,
  word,
  type Audience,
  type Figure,
  type GroupScores,
  type HeadlineFigure,
  type ItemScore,
  type Tip,
} from '@rapport/core';
import { Isolated } from '../pages/layout';

/**
 * The pieces of the results pages (a pro's page, a past summary, the team table): figures in
 * plain words with their n and likely range, never a number below the anonymity threshold k.
 */

type Unit = HeadlineFigure['unit'];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `2030-03` → "Mar 2030". */
export const monthLabel = (month: string) => `${MONTHS[Number(month.slice(5)) - 1]} ${month.slice(0, 4)}`;

export const AUDIENCE_LABELS: Record<Audience, string> = { reporter: 'Reporters', colleague: 'Colleagues', client: 'Clients' };

/** "4.2 out of 5, from 23 answers; likely between 3.9 and 4.5", or the withheld words ("no answers", "2 answers, too few to show"). */
export function figureWords(f: Figure, unit: Unit): string {
  if (f.withheld) return withheldText(f.n);
  const range = f.ci ? `; likely between ${figureNumber(f.ci[0], unit)} and ${figureNumber(f.ci[1], unit)}` : '; too few for a likely range';
  return `${valueText(f.value, unit)}, from ${answersText(f.n)}${range}`;
}

/** A scored item of the API's scores as a figure: withheld below k, as in the summaries. */
export const itemFigure = (item: ItemScore | undefined, k: number): Figure => (item ? figure(item.n, k, item.mean, item.ci) : { n: 0, withheld: true });

/** The three headline figures of a group of released answers (the same three the summary emails give). */
export function headlineFigures(group: GroupScores, k: number): { key: string; label: string; unit: Unit; figure: Figure }[] {
  const r = group.items.responsiveness;
  const rec = group.items.recommend;
  return [
    { key: 'responsiveness', label: 'Responsiveness', unit: 'mean5', figure: itemFigure(r, k) },
    {
      key: 'percentResponsive',
      label: 'Rated you 4 or 5',
      unit: 'percent',
      figure: r?.percentResponsive ? figure(r.n, k, r.percentResponsive.percent, r.percentResponsive.ci) : { n: 0, withheld: true },
    },
    { key: 'nps', label: 'Net Promoter Score', unit: 'nps', figure: rec?.nps ? figure(rec.n, k, rec.nps.score, rec.nps.ci) : { n: 0, withheld: true } },
  ];
}

/** Why some figures are not shown: the rule, never how many answers wait. */
export const ThresholdNote = ({ k }: { k: number }) => (
  <p class="notice" id="threshold-note">
    Some results are not shown yet. Answers to an anonymous survey count only once its round has closed and at least {k} people of the same audience
    have answered, so that no one’s answer can be picked out; until then they wait, and are not counted anywhere. A score from fewer than {k}{' '}
    answers is not shown either.
  </p>
);

export const HowToRead = () => (
  <p class="muted">
    Scores run from 1 (very unresponsive) to 5 (exceptionally responsive). Each comes with the number of answers behind it and a likely range (95%
    confidence): the more answers, the narrower the range.
  </p>
);

export const Headline = ({ figures }: { figures: ReturnType<typeof headlineFigures> }) => (
  <ul class="headline">
    {figures.map((h) => (
      <li class="card" data-figure={h.key}>
        <span class="label">{h.label}</span>
        <strong class="big">{h.figure.withheld ? 'Not shown yet' : valueText(h.figure.value, h.unit)}</strong>
        <span class="words">{figureWords(h.figure, h.unit)}</span>
      </li>
    ))}
  </ul>
);

/** One month of the trend: its month and responsiveness figure. */
export interface TrendMonth {
  month: string;
  figure: Figure;
}

// The chart's drawing box, in SVG units (scaled to the page's width by CSS).
const W = 480;
const H = 280;
const LEFT = 36;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 40;
const y = (v: number) => TOP + ((5 - v) / 4) * (H - TOP - BOTTOM);

/**
 * The 12-month trend as SVG drawn on the server: a point per month with its likely range as a
 * whisker, joined where consecutive months are shown; a month under k has no point. Styled by
 * classes (the CSP allows no style attribute). The same figures follow as a table.
 */
export const TrendChart = ({ months, id }: { months: TrendMonth[]; id: string }) => {
  const step = (W - LEFT - RIGHT) / Math.max(months.length, 1);
  const x = (i: number) => LEFT + step * (i + 0.5);
  const shown = months.map((m, i) => (m.figure.withheld ? null : { i, f: m.figure }));
  const segments = shown.flatMap((p, i) => {
    const next = shown[i + 1];
    return p && next ? [`M${x(p.i).toFixed(1)},${y(p.f.value).toFixed(1)}L${x(next.i).toFixed(1)},${y(next.f.value).toFixed(1)}`] : [];
  });
  const described = months.filter((m) => !m.figure.withheld).length;
  return (
    <figure class="trend">
      <svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-title`}>Responsiveness month by month, out of 5</title>
        <desc id={`${id}-desc`}>
          {described === 0 ? 'No month has enough answers to show yet.' : `${described} of ${months.length} months shown; the figures are in the table that follows.`}
        </desc>
        {[1, 2, 3, 4, 5].map((v) => (
          <g>
            <line class="grid" x1={LEFT} x2={W - RIGHT} y1={y(v)} y2={y(v)} />
            <text class="axis" x={LEFT - 8} y={y(v) + 6} text-anchor="end">
              {v}
            </text>
          </g>
        ))}
        {months.map((m, i) => (
          <text class="axis" x={x(i)} y={H - 12} text-anchor="middle">
            {monthLabel(m.month).slice(0, 3)}
          </text>
        ))}
        {segments.length > 0 && <path class="line" d={segments.join('')} />}
        {shown.map((p) =>
          p ? (
            <g class="point">
              {p.f.ci && <line class="range" x1={x(p.i)} x2={x(p.i)} y1={y(p.f.ci[1])} y2={y(p.f.ci[0])} />}
              <circle class="dot" cx={x(p.i)} cy={y(p.f.value)} r="5" />
            </g>
          ) : null,
        )}
      </svg>
      <figcaption class="muted">Dots: the month’s mean responsiveness; bars: its likely range. A month with too few answers has no dot.</figcaption>
    </figure>
  );
};

export const TrendTable = ({ months }: { months: TrendMonth[] }) => (
  <details class="trend-table">
    <summary>The same figures as a table</summary>
    <div class="table-wrap">
      <table aria-label="Responsiveness month by month">
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col">Responsiveness</th>
          </tr>
        </thead>
        <tbody>
          {months.map((m) => (
            <tr>
              <th scope="row">{monthLabel(m.month)}</th>
              <td>{figureWords(m.figure, 'mean5')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </details>
);

export const AudienceTable = ({ audiences, k }: { audiences: Partial<Record<Audience, GroupScores>>; k: number }) => {
  const rows = (Object.entries(audiences) as [Audience, GroupScores][]).filter(([, g]) => g.n > 0);
  if (rows.length === 0) return <p>No audience has answers to show yet.</p>;
  return (
    <div class="table-wrap">
      <table class="audiences stack">
        <thead>
          <tr>
            <th scope="col">Audience</th>
            <th scope="col">Responsiveness</th>
            <th scope="col">Would recommend (NPS)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([audience, g]) => {
            const [responsiveness, , nps] = headlineFigures(g, k);
            return (
              <tr>
                <th scope="row">{AUDIENCE_LABELS[audience]}</th>
                <td data-label="Responsiveness">{figureWords(responsiveness!.figure, 'mean5')}</td>
                <td data-label="Would recommend (NPS)">{nps!.figure.withheld && nps!.figure.n === 0 ? 'not asked' : figureWords(nps!.figure, 'nps')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
};

export const Weakest = ({ weakest, tips, proName, k, none }: { weakest: { dimension: Tip['dimension']; label: string; mean: number; n: number } | null; tips: Tip[]; proName: string; k: number; none: string }) =>
  weakest ? (
    <div class="weakest">
      <p>
        <strong>{weakest.label}</strong>: {valueText(weakest.mean, 'mean5')} from {answersText(weakest.n)}, the lowest score.
      </p>
      <p class="muted">
        The statement they rated: “<Isolated>{word(weakest.dimension, proName)}</Isolated>”
      </p>
      <p>What to try next:</p>
      <ol class="tips">
        {tips.map((t) => (
          <li data-tip={t.id}>{t.text}</li>
        ))}
      </ol>
    </div>
  ) : (
    <p>{none.replace('{k}', String(k))}</p>
  );

/** A comment kept as its author wrote it (line breaks included), bidi-isolated. */
export const Quote = ({ who, children, meta }: { who: string; meta?: string; children: Child }) => (
  <blockquote class="quote">
    <p class="who">
      {who}
      {meta ? <span class="muted"> · {meta}</span> : null}
    </p>
    <p class="said">
      <Isolated>{children}</Isolated>
    </p>
  </blockquote>
);
