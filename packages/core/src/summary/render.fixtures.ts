/**
 * Realistic summary models for the render tests (./render.test.ts, ./render.browser.test.ts):
 * a typical month, a month with withheld groups, and a hostile one with long and malicious text.
 */
import type { AgencySummary, AgencySummaryRow, Figure, ProSummary, TrendPoint } from './model';
import { chooseTips } from './tips';

export const HOSTILE_NAME = 'Jane "><img src=x onerror=alert(1)> <script>alert(2)</script> Doe';
export const HOSTILE_COMMENT = '<script>alert("x")</script> Reply faster "><img src=x onerror=alert(3)> & sign your emails';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const shown = (n: number, value: number, half: number | null): Figure => ({
  n,
  withheld: false,
  value,
  ci: half === null ? null : [value - half, value + half],
});
const hidden = (n: number): Figure => ({ n, withheld: true });

/** Twelve months ending March 2030, oldest first; two early months below k. */
export function trend12(): TrendPoint[] {
  const values: (Figure)[] = [
    hidden(2),
    hidden(0),
    shown(6, 3.2, 0.7),
    shown(9, 3.4, 0.5),
    shown(11, 3.6, 0.45),
    shown(8, 3.5, 0.55),
    shown(14, 3.9, 0.4),
    shown(12, 4.0, 0.38),
    shown(10, 3.8, 0.5),
    shown(15, 4.1, 0.3),
    shown(9, 3.9, 0.5),
    shown(12, 4.2, 0.36),
  ];
  return values.map((figure, i) => {
    const month = ((i + 3) % 12) + 1; // April 2029 … March 2030
    const year = i < 9 ? 2029 : 2030;
    return { period: `${year}-${String(month).padStart(2, '0')}`, label: MONTHS[month - 1]!, figure };
  });
}

export function proSummary(overrides: Partial<ProSummary> = {}): ProSummary {
  return {
    agencyName: 'Northwind Communications',
    pro: { proId: 'pro_01', name: 'Jane Doe' },
    period: { key: '2030-03', label: 'March 2030', from: '2030-03-01T00:00:00.000Z', to: '2030-04-01T00:00:00.000Z' },
    previousPeriodLabel: 'February 2030',
    anonymityThreshold: 5,
    headline: [
      {
        key: 'responsiveness',
        label: 'Responsiveness',
        unit: 'mean5',
        current: shown(12, 4.2, 0.36),
        previous: shown(9, 3.1, 0.4),
        change: 'up',
      },
      {
        key: 'percentResponsive',
        label: 'Rated you 4 or 5',
        unit: 'percent',
        current: { n: 12, withheld: false, value: 83.3, ci: [55.2, 95.3] },
        previous: shown(9, 44.4, 25),
        change: 'none',
      },
      {
        key: 'nps',
        label: 'Net Promoter Score',
        unit: 'nps',
        current: shown(12, 41.7, 35),
        previous: null,
        change: 'none',
      },
    ],
    trend: trend12(),
    responseRate: { delivered: 30, responses: 12, percent: 40 },
    weakest: { dimension: 'anticipation', label: 'Anticipated their needs', mean: 3.14, n: 7, tips: chooseTips('anticipation', [], 3) },
    comments: [
      { audience: 'reporter', text: 'Answer before my 5 pm deadline, even if it is only to say no.' },
      { audience: 'client', text: 'Great launch.\nI would like the coverage report on Mondays without asking.' },
    ],
    commitment: { text: 'I will answer reporters within two hours.', since: '2030-02-14T09:30:00.000Z', responsiveness: { n: 9, withheld: false, value: 4.3, ci: [3.9, 4.7] } },
    commentCount: 2,
    moreUrl: 'https://rapport.example/docs',
    ...overrides,
  };
}

/** A month where every figure is below k: only counts are shown. */
export function withheldSummary(): ProSummary {
  const base = proSummary();
  return {
    ...base,
    headline: base.headline.map((h) => ({ ...h, current: hidden(3), previous: hidden(2), change: 'none' as const })),
    trend: base.trend.map((p) => ({ ...p, figure: hidden(Math.min(p.figure.n, 4)) })),
    responseRate: { delivered: 10, responses: 3, percent: 30 },
    weakest: null,
    comments: [],
    commentCount: 0,
    commitment: base.commitment && { ...base.commitment, responsiveness: hidden(3) },
  };
}

const LONG_WORD = 'Supercalifragilisticexpialidocious'.repeat(8);

/** Long names, long unbroken words, hostile markup and twelve trend points. */
export function hostileSummary(): ProSummary {
  return proSummary({
    agencyName: `${LONG_WORD} & Partners <b>Global</b>`,
    pro: { proId: 'pro_02', name: `${HOSTILE_NAME} ${LONG_WORD}` },
    period: { key: '2030-W10', label: 'the week of 4 Mar to 10 Mar 2030', from: '2030-03-04T00:00:00.000Z', to: '2030-03-11T00:00:00.000Z' },
    previousPeriodLabel: 'the week of 25 Feb to 3 Mar 2030',
    comments: [
      { audience: 'reporter', text: HOSTILE_COMMENT },
      { audience: 'colleague', text: `https://example.com/${'a'.repeat(300)}\r\n\r\n\r\nSecond paragraph\u0000 after control chars.` },
      { audience: 'client', text: `${'Please keep me in the loop on every change to the plan. '.repeat(30)}${LONG_WORD}` },
    ],
    commentCount: 5,
    commitment: { text: `<script>alert(4)</script> ${LONG_WORD}`, since: '2030-02-14T09:30:00.000Z', responsiveness: { n: 2, withheld: true } },
  });
}

const row = (name: string, responsiveness: Figure, previous: Figure | null, change: AgencySummaryRow['change'], responses: number): AgencySummaryRow => ({
  proId: name.toLowerCase().replace(/\W+/g, '-'),
  name,
  responsiveness,
  previous,
  change,
  responses,
});

export function agencySummary(overrides: Partial<AgencySummary> = {}): AgencySummary {
  const jane = row('Jane Doe', shown(12, 4.2, 0.36), shown(9, 3.1, 0.4), 'up', 12);
  const omar = row('Omar Haddad', shown(8, 2.6, 0.5), shown(10, 3.9, 0.4), 'down', 8);
  const li = row('Li Wei', hidden(3), shown(6, 4.0, 0.6), 'none', 3);
  const pat = row(`${HOSTILE_NAME} ${LONG_WORD}`, shown(6, 3.7, 0.6), null, 'none', 6);
  return {
    agencyName: 'Northwind Communications',
    period: { key: '2030-03', label: 'March 2030', from: '2030-03-01T00:00:00.000Z', to: '2030-04-01T00:00:00.000Z' },
    previousPeriodLabel: 'February 2030',
    anonymityThreshold: 5,
    team: [jane, omar, li, pat],
    movers: [jane, omar],
    needAttention: [omar],
    moreUrl: 'https://rapport.example/docs',
    ...overrides,
  };
}
