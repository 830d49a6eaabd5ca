import { Hono, type Context } from 'hono';
import {
  agencyScores,
  chooseTips,
  ForbiddenError,
  getAgency,
  getPro,
  listCampaigns,
  listResponses,
  listRounds,
  listTestimonials,
  monthPeriod,
  movesOf,
  NotFoundError,
  periodOf,
  previousPeriod,
  proScores,
  proSummaryFor,
  recordCommitment,
  sentSummaryPeriods,
  summaryPeriodOf,
  summaryWasSent,
  teamRow,
  ValidationError,
  weakestDimension,
  type AgencySummaryRow,
  type Figure,
  type Viewer,
} from '@rapport/core';
import type { Deps } from '../deps';
import type { ConsoleEnv } from './env';
import { ConsoleLayout, CsrfField } from './layout';
import { assertCanSeePro, isAdmin } from './session';
import { Isolated } from '../pages/layout';
import {
  AudienceTable,
  figureWords,
  Headline,
  headlineFigures,
  HowToRead,
  itemFigure,
  monthLabel,
  Quote,
  AUDIENCE_LABELS,
  ThresholdNote,
  TrendChart,
  TrendTable,
  Weakest,
  type TrendMonth,
} from './results-view';
import { FirstSteps, firstStepsOf } from './first-steps';

/**
 * The results pages (issue 14 §2, §5): a pro's page (their home, and /app/pros/{id} for members,
 * the same page), a past summary, and the team table (a member's home). Every figure comes from
 * the core calls the API's routes make (`proScores`, `agencyScores`, `listResponses`,
 * `listTestimonials`, `listCampaigns`/`listRounds`, `recordCommitment`, `proSummaryFor`), always
 * with the viewer's agency, so the anonymity rules and tenant isolation are theirs.
 */

/** Items per list on a pro's page; the rest are a "more" link away. */
const COMMENTS_PAGE = 50;
const TESTIMONIALS_PAGE = 10;
const CAMPAIGNS_PAGE = 10;
const ROUNDS_SHOWN = 10;
/** Pros per page of the team table: the agency scores route's page, and the last month's comparison for each. */
export const TEAM_PAGE = 25;

/** Who may record a pro's commitment: the pro, or an admin (as through the API, where it needs an admin key); a lead reads it. */
const canCommit = (viewer: Viewer, proId: string) => (viewer.kind === 'pro' && viewer.proId === proId) || isAdmin(viewer);

/** Where a pro's page lives for this viewer: their home for the pro, /app/pros/{id} for members. */
const proPath = (viewer: Viewer, proId: string) => (viewer.kind === 'pro' ? '/app' : `/app/pros/${proId}`);

const query = (c: Context, name: string) => c.req.query(name) || undefined;

/** A link keeping the page's other cursors, with one changed. */
function withCursor(c: Context, base: string, name: string, cursor: string): string {
  const params = new URLSearchParams();
  for (const key of ['comments', 'testimonials', 'campaigns']) {
    const value = key === name ? cursor : c.req.query(key);
    if (value) params.set(key, value);
  }
  return `${base}?${params.toString()}`;
}

async function proPage(deps: Deps, c: Context<ConsoleEnv>, proId: string, form?: { text: string; error: string }) {
  const { db, now } = deps;
  const viewer = c.get('viewer');
  assertCanSeePro(viewer, proId);
  const { agencyId } = viewer;
  const [agency, pro] = await Promise.all([getAgency(db, agencyId), getPro(db, agencyId, proId)]);
  const k = agency.anonymityThreshold;
  const [total, monthly] = await Promise.all([
    proScores(db, agencyId, proId, { granularity: 'total' }, now()),
    proScores(db, agencyId, proId, { granularity: 'month' }, now()),
  ]);
  const since = monthPeriod(total.from, agency.timezone).from;
  const [responses, testimonials, campaigns, summaries] = await Promise.all([
    listResponses(db, agencyId, { proId, since }, { limit: COMMENTS_PAGE, cursor: query(c, 'comments') }),
    listTestimonials(db, agencyId, { proId }, { limit: TESTIMONIALS_PAGE, cursor: query(c, 'testimonials') }),
    listCampaigns(db, agencyId, { proId }, { limit: CAMPAIGNS_PAGE, cursor: query(c, 'campaigns') }),
    sentSummaryPeriods(db, agencyId, proId),
  ]);
  const rounds = await Promise.all(campaigns.items.map((cmp) => listRounds(db, agencyId, cmp.campaignId, { limit: ROUNDS_SHOWN })));

  const period = total.periods[0]!;
  const figures = headlineFigures(period.total, k);
  const trend: TrendMonth[] = monthly.periods.map((p) => ({ month: p.period, figure: itemFigure(p.total.items.responsiveness, k) }));
  const weakest = weakestDimension(period.total.items, k);
  const tips = weakest ? chooseTips(weakest.dimension, [], 3) : [];
  const comments = responses.items.filter((r) => r.answers.improve);
  // Something is not shown: a figure under k, or delivered invitations whose answers have not been released.
  const hidden = figures.some((f) => f.figure.withheld) || trend.some((t) => t.figure.withheld && t.figure.n > 0) || period.responses < period.delivered;
  const self = viewer.kind === 'pro';
  const base = proPath(viewer, proId);
  const title = self ? 'My results' : `Results of ${pro.name}`;
  const commitErrorId = 'commitment-error';

  return c.html(
    <ConsoleLayout title={title} viewer={viewer} csrf={c.get('csrf')} current={self ? '/app' : undefined}>
      <h1>
        {self ? 'My results' : <>Results of <Isolated>{pro.name}</Isolated></>}
      </h1>
      <p class="lede">
        The last 12 months, {monthLabel(total.from)} to {monthLabel(total.to)}: what reporters, colleagues and clients said in released answers.
      </p>
      {c.req.query('saved') === '1' && (
        <p class="notice" role="status">
          Commitment saved.
        </p>
      )}
      <HowToRead />

      <section aria-labelledby="headline-h">
        <h2 id="headline-h">Headline scores</h2>
        {period.total.n === 0 && <p>No answers to show yet.</p>}
        <Headline figures={figures} />
        <p>
          {period.delivered === 0
            ? 'No survey invitations were delivered in these 12 months.'
            : `${period.responses} answers counted from ${period.delivered} delivered invitations.`}
        </p>
        {hidden && <ThresholdNote k={k} />}
      </section>

      <section aria-labelledby="trend-h">
        <h2 id="trend-h">Month by month</h2>
        <TrendChart months={trend} id="trend" />
        <TrendTable months={trend} />
      </section>

      <section aria-labelledby="audiences-h">
        <h2 id="audiences-h">By audience</h2>
        <AudienceTable audiences={period.audiences} k={k} />
      </section>

      <section aria-labelledby="focus-h">
        <h2 id="focus-h">Where to focus</h2>
        <Weakest weakest={weakest} tips={tips} proName={pro.name} k={k} none="No part of the survey has at least {k} answers yet, so there is no focus area yet." />
      </section>

      <section aria-labelledby="comments-h">
        <h2 id="comments-h">What people said</h2>
        {comments.length === 0 ? (
          <p>No comments to show yet.</p>
        ) : (
          comments.map((r) => (
            <Quote who={AUDIENCE_LABELS[r.audience].replace(/s$/, '')} meta={`${r.campaignName ?? 'several campaigns'}, ${monthLabel(r.period)}`}>
              {r.answers.improve}
            </Quote>
          ))
        )}
        {responses.nextCursor && (
          <p class="no-print">
            <a href={withCursor(c, base, 'comments', responses.nextCursor)}>More comments</a>
          </p>
        )}
        <h3>Testimonials</h3>
        <p class="muted">Comments of people who would recommend {self ? 'you' : 'this pro'} (9 or 10) and agreed to be quoted, without names.</p>
        {testimonials.items.length === 0 ? (
          <p>No testimonials yet.</p>
        ) : (
          testimonials.items.map((t) => (
            <Quote who={AUDIENCE_LABELS[t.audience].replace(/s$/, '')} meta={`recommends ${t.recommend}/10, ${monthLabel(t.period)}`}>
              {t.quote}
            </Quote>
          ))
        )}
        {testimonials.nextCursor && (
          <p class="no-print">
            <a href={withCursor(c, base, 'testimonials', testimonials.nextCursor)}>More testimonials</a>
          </p>
        )}
      </section>

      <section aria-labelledby="commitment-h" id="commitment">
        <h2 id="commitment-h">{self ? 'My commitment' : 'Commitment'}</h2>
        {pro.commitment ? (
          <>
            <Quote who={`Since ${new Date(pro.commitment.since).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: agency.timezone })}`}>
              {pro.commitment.text}
            </Quote>
          </>
        ) : (
          <p>No commitment recorded yet.</p>
        )}
        {canCommit(viewer, proId) && (
          <form method="post" action={`/app/pros/${proId}/commitment`} class="no-print" novalidate>
            <CsrfField token={c.get('csrf')} />
            <div class="field">
              <label for="commitment-text">{pro.commitment ? 'Change the commitment' : 'Record a commitment'}</label>
              <p class="hint" id="commitment-hint">
                What {self ? 'you' : 'the pro'} will change, e.g. “I will answer reporters within two hours”. Later survey emails show it, and summaries report
                the scores since.
              </p>
              <textarea
                id="commitment-text"
                name="text"
                maxlength={280}
                aria-describedby={form ? `commitment-hint ${commitErrorId}` : 'commitment-hint'}
                aria-invalid={form ? 'true' : undefined}
              >
                {form?.text ?? ''}
              </textarea>
              {form && (
                <p class="error" id={commitErrorId}>
                  {form.error}
                </p>
              )}
            </div>
            <button type="submit">Save the commitment</button>
          </form>
        )}
      </section>

      <section aria-labelledby="campaigns-h" class="no-print">
        <h2 id="campaigns-h">Campaigns and survey rounds</h2>
        {campaigns.items.length === 0 ? (
          <p>No campaigns yet.</p>
        ) : (
          <ul class="campaigns">
            {campaigns.items.map((cmp, i) => (
              <li>
                <strong>
                  <Isolated>{cmp.name}</Isolated>
                </strong>
                {rounds[i]!.items.length === 0 ? (
                  <p class="muted">No survey rounds yet.</p>
                ) : (
                  <ul>
                    {rounds[i]!.items.map((r) => (
                      <li>
                        <a href={`/app/rounds/${r.roundId}`}>
                          Round of {new Date(r.createdAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: agency.timezone })}
                        </a>{' '}
                        <span class="muted">
                          ({r.attribution}, {r.status === 'open' ? `open until ${new Date(r.closesAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', timeZone: agency.timezone })}` : r.status})
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        )}
        {campaigns.nextCursor && (
          <p>
            <a href={withCursor(c, base, 'campaigns', campaigns.nextCursor)}>More campaigns</a>
          </p>
        )}
      </section>

      <section aria-labelledby="summaries-h" class="no-print">
        <h2 id="summaries-h">Past summaries</h2>
        {summaries.length === 0 ? (
          <p>No summary has been emailed yet.</p>
        ) : (
          <ul class="summaries">
            {summaries.map((key) => (
              <li>
                <a href={`/app/pros/${proId}/summaries/${key}`}>{summaryPeriodOf(key, agency.timezone).label}</a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <p class="muted no-print">
        Printing gives a one-page report: the scores, the chart, the audiences, where to focus and the comments, without the menus and forms. Use your
        browser’s Print command.
      </p>
    </ConsoleLayout>,
    form ? 400 : 200,
  );
}

/** A past summary: the pro summary of that period, rebuilt by the builder the email used (the sent content is not stored). */
async function summaryPage(deps: Deps, c: Context<ConsoleEnv>, proId: string, key: string) {
  const { db, config } = deps;
  const viewer = c.get('viewer');
  assertCanSeePro(viewer, proId);
  const [agency, pro] = await Promise.all([getAgency(db, viewer.agencyId), getPro(db, viewer.agencyId, proId)]);
  if (!/^\d{4}-(\d{2}|W\d{2})$/.test(key) || !(await summaryWasSent(db, viewer.agencyId, proId, key))) throw new NotFoundError('summary');
  const built = await proSummaryFor({ db, publicUrl: config.publicUrl }, agency, pro, summaryPeriodOf(key, agency.timezone));
  if (!built) throw new NotFoundError('summary');
  const { summary: s, rendered } = built;
  const k = s.anonymityThreshold;
  const figures = s.headline.map((h) => ({ key: h.key, label: h.label, unit: h.unit, figure: h.current }));
  const title = `Summary for ${s.period.label}`;
  const changeWords = (h: (typeof s.headline)[number]) =>
    h.change === 'up' ? 'Up: a real change, the likely ranges do not overlap.' : h.change === 'down' ? 'Down: a real change, the likely ranges do not overlap.' : null;
  return c.html(
    <ConsoleLayout title={title} viewer={viewer} csrf={c.get('csrf')}>
      <p class="no-print">
        <a href={proPath(viewer, proId)}>← Back to {viewer.kind === 'pro' ? 'my results' : <Isolated>{pro.name}</Isolated>}</a>
      </p>
      <h1>{title}</h1>
      <p class="lede">
        The summary emailed to <Isolated>{pro.name}</Isolated> for {s.period.label}, compared with {s.previousPeriodLabel}.
      </p>
      <HowToRead />
      <h2>Headline scores</h2>
      <Headline figures={figures} />
      <ul class="changes">
        {s.headline.map((h) => (
          <li>
            {h.label}, {s.previousPeriodLabel}: {h.previous ? figureWords(h.previous, h.unit) : 'no answers'}.{changeWords(h) ? ` ${changeWords(h)}` : ''}
          </li>
        ))}
      </ul>
      {figures.some((f) => f.figure.withheld) && <ThresholdNote k={k} />}
      <h2>Month by month</h2>
      <TrendChart months={s.trend.map((t) => ({ month: t.period, figure: t.figure }))} id="summary-trend" />
      <TrendTable months={s.trend.map((t) => ({ month: t.period, figure: t.figure }))} />
      <h2>Where to focus</h2>
      <Weakest weakest={s.weakest} tips={s.weakest?.tips ?? []} proName={pro.name} k={k} none="No part of the survey had at least {k} answers in this period, so there was no focus area." />
      <h2>What people said</h2>
      {s.comments.length === 0 ? (
        <p>No comments in this period.</p>
      ) : (
        <>
          <p class="muted">
            The latest {s.comments.length} of {s.commentCount} comments of the period, without names.
          </p>
          {s.comments.map((cm) => (
            <Quote who={AUDIENCE_LABELS[cm.audience].replace(/s$/, '')}>{cm.text}</Quote>
          ))}
        </>
      )}
      {s.commitment && (
        <>
          <h2>Commitment</h2>
          <Quote who={`Since ${new Date(s.commitment.since).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: agency.timezone })}`}>
            {s.commitment.text}
          </Quote>
          <p>Responsiveness since then: {figureWords(s.commitment.responsiveness, 'mean5')}</p>
        </>
      )}
      <details class="no-print email-text">
        <summary>The email as sent (plain-text part)</summary>
        <p class="muted">Subject: {rendered.subject}</p>
        <pre>{rendered.text}</pre>
      </details>
    </ConsoleLayout>,
  );
}

const ChangeCell = ({ row }: { row: AgencySummaryRow | undefined }) => {
  if (!row) return <span class="muted">no answers</span>;
  // "No clear change" only where both months are shown.
  const comparable = !row.responsiveness.withheld && row.previous && !row.previous.withheld;
  const word = row.change === 'up' ? '▲ up' : row.change === 'down' ? '▼ down' : comparable ? 'no clear change' : null;
  return (
    <>
      {figureWords(row.responsiveness, 'mean5')}
      {word && (
        <>
          <br />
          <span class={`change ${row.change}`}>{word}</span>
        </>
      )}
    </>
  );
};

const ProLink = ({ row }: { row: { proId: string; name: string } }) => (
  <a href={`/app/pros/${row.proId}`}>
    <Isolated>{row.name}</Isolated>
  </a>
);

const RowList = ({ rows, previous }: { rows: AgencySummaryRow[]; previous: string }) => (
  <ul class="rows">
    {rows.map((r) => (
      <li>
        <ProLink row={r} />: {figureWords(r.responsiveness, 'mean5')}
        {r.previous ? `; ${previous}: ${figureWords(r.previous, 'mean5')}` : ''}
        {r.change === 'up' ? '; up, a real change' : r.change === 'down' ? '; down, a real change' : ''}
      </li>
    ))}
  </ul>
);

/** The team table: a page of pros with their 12-month headline (the agency scores route), and last month against the month before (the agency summary's rows). */
async function teamPage(deps: Deps, c: Context<ConsoleEnv>) {
  const { db, now } = deps;
  const viewer = c.get('viewer');
  const agency = await getAgency(db, viewer.agencyId);
  const k = agency.anonymityThreshold;
  const scores = await agencyScores(db, viewer.agencyId, { granularity: 'total' }, { limit: TEAM_PAGE, cursor: query(c, 'cursor') }, now());
  const month = previousPeriod(monthPeriod(periodOf(now(), agency.timezone), agency.timezone), agency.timezone);
  const previous = previousPeriod(month, agency.timezone).label;
  const rows = await Promise.all(scores.pros.map((p) => teamRow(db, agency, p, month)));
  const shown = rows.filter((r): r is AgencySummaryRow => r !== null);
  const { movers, needAttention } = movesOf(shown);
  const rowOf = new Map(shown.map((r) => [r.proId, r]));
  const responsiveness = (f: Figure) => figureWords(f, 'mean5');
  const firstSteps = await firstStepsOf(db, viewer);
  return c.html(
    <ConsoleLayout title="Team" viewer={viewer} csrf={c.get('csrf')} current="/app">
      <h1>Team</h1>
      {firstSteps && <FirstSteps {...firstSteps} />}
      <p class="lede">
        How reporters, colleagues and clients rated each pro in the last 12 months ({monthLabel(scores.from)} to {monthLabel(scores.to)}), and{' '}
        {month.label} against {previous}.
      </p>
      <HowToRead />
      <p class="muted">
        A change is called only when the likely ranges of the two months do not overlap. Scores from fewer than {k} answers are not shown, to keep the
        people who answered anonymous.
      </p>
      <h2>Needs attention</h2>
      <p class="muted">Pros scoring below 3 out of 5 in {month.label}, or with a real drop, among those with enough answers to show.</p>
      {needAttention.length ? <RowList rows={needAttention} previous={previous} /> : <p>No pros need attention.</p>}
      <h2>Biggest movers</h2>
      {movers.length ? <RowList rows={movers} previous={previous} /> : <p>No real changes in {month.label}.</p>}
      <h2>Every pro</h2>
      {scores.pros.length === 0 ? (
        <p>No pro has had a survey delivered in these 12 months yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="team">
            <thead>
              <tr>
                <th scope="col">Pro</th>
                <th scope="col">Responsiveness, 12 months</th>
                <th scope="col">{month.label}</th>
              </tr>
            </thead>
            <tbody>
              {scores.pros.map((p) => (
                <tr>
                  <th scope="row">
                    <ProLink row={p} />
                  </th>
                  <td>{responsiveness(itemFigure(p.items.responsiveness, k))}</td>
                  <td>
                    <ChangeCell row={rowOf.get(p.proId)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">Pros are listed once a survey of theirs was delivered or answered in these 12 months, {TEAM_PAGE} to a page, in the order they were added.</p>
      {scores.nextCursor && (
        <p class="no-print">
          <a href={`/app?cursor=${encodeURIComponent(scores.nextCursor)}`}>Next pros</a>
        </p>
      )}
    </ConsoleLayout>,
  );
}

export function resultsRoutes(deps: Deps) {
  return new Hono<ConsoleEnv>()
    .get('/', (c) => {
      const viewer = c.get('viewer');
      return viewer.kind === 'pro' ? proPage(deps, c, viewer.proId) : teamPage(deps, c);
    })
    .get('/pros/:proId', (c) => proPage(deps, c, c.req.param('proId')))
    .get('/pros/:proId/summaries/:period', (c) => summaryPage(deps, c, c.req.param('proId'), c.req.param('period')))
    .post('/pros/:proId/commitment', async (c) => {
      const viewer = c.get('viewer');
      const proId = c.req.param('proId');
      assertCanSeePro(viewer, proId);
      if (!canCommit(viewer, proId)) throw new ForbiddenError('Only the pro or an admin of the agency records a commitment');
      const form = await c.req.parseBody();
      const text = typeof form.text === 'string' ? form.text : '';
      try {
        await recordCommitment(deps.db, viewer.agencyId, proId, { text }, deps.now());
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        const issue = error.issues.find((i) => i.field === 'text') ?? error.issues[0]!;
        return proPage(deps, c, proId, { text, error: `The commitment ${issue.message}.` });
      }
      return c.redirect(`${proPath(viewer, proId)}?saved=1#commitment`, 303);
    });
}
