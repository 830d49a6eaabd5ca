import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Child } from 'hono/jsx';
import {
  AUDIENCES,
  CampaignInputSchema,
  cancelRound,
  closeRoundNow,
  promisedThreshold,
  contactTypes,
  createCampaign,
  decodeMediaList,
  deliveredCount,
  deliveryStatus,
  FIELD_LABELS,
  ForbiddenError,
  getAgency,
  getCampaign,
  getPro,
  getRound,
  guessAudience,
  guessMapping,
  listCampaigns,
  listInvitations,
  listPros,
  listSkipped,
  MAX_MEDIA_LIST_BYTES,
  MEDIA_LIST_FIELDS,
  MediaListError,
  NotFoundError,
  parseInput,
  parseMediaList,
  previewRound,
  recipientsOf,
  ValidationError,
  type Audience,
  type AudienceRule,
  type Campaign,
  type ColumnMapping,
  type FieldIssue,
  type MediaList,
  type Page,
  type PageRequest,
  type Round,
  type RoundWithProgress,
  type RoundPreview,
  type Skipped,
  type Viewer,
} from '@rapport/core';
import type { Deps } from '../deps';
import { presentRound, sendRound } from '../api/routes/surveys';
import { Isolated } from '../pages/layout';
import type { ConsoleEnv } from './env';
import { ariaFor, FieldBox } from './form';
import { ConsoleLayout, CsrfField } from './layout';
import { assertCanSeePro, isAdmin } from './session';

type Ctx = Context<ConsoleEnv>;
type Form = Record<string, string | File>;

const AUDIENCE_LABELS: Record<Audience, string> = { reporter: 'Reporter', colleague: 'Colleague', client: 'Client' };
const SKIP_LABELS: Record<Skipped['reason'], string> = {
  invalid: 'not a valid address',
  duplicate: 'already in the list above',
  unsubscribed: 'unsubscribed',
  bounced: 'bounced before',
  complained: 'marked a survey as spam',
  erased: 'their data was erased at their request',
  throttled: 'surveyed too recently',
};
/** Above this many distinct contact types, each takes its guessed audience without a choice per type. */
const MAX_TYPE_CHOICES = 30;

/** Sending is for the pro (their own campaigns) and admins; a lead reads results only, as an API read key does. */
const requireSender = createMiddleware<ConsoleEnv>(async (c, next) => {
  const viewer = c.get('viewer');
  if (viewer.kind === 'member' && !isAdmin(viewer)) throw new ForbiddenError('Leads read results; the pro or an admin of the agency sends rounds');
  await next();
});

/** A campaign the viewer may send for: a pro's own only (anyone else's is "not found"). */
async function campaignFor(deps: Deps, viewer: Viewer, campaignId: string): Promise<Campaign> {
  const campaign = await getCampaign(deps.db, viewer.agencyId, campaignId);
  assertCanSeePro(viewer, campaign.proId);
  return campaign;
}

/** Whether a pro is deactivated: no round can be sent for them (an unknown one is refused where it is used). */
const isDeactivated = async (deps: Deps, agencyId: string, proId: string) =>
  (await getPro(deps.db, agencyId, proId).catch((error) => (error instanceof NotFoundError ? null : Promise.reject(error))))?.deactivatedAt !== undefined;

/** Every item of a paged listing (a campaign's or round's lists are bounded: 2,000 rows at most). */
async function all<T>(list: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: 100, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

const text = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');


const Steps = ({ at }: { at: number }) => (
  <ol class="steps" aria-label="Steps">
    {['Campaign and list', 'Columns', 'Preview and send'].map((step, i) => (
      <li aria-current={i === at ? 'step' : undefined}>{step}</li>
    ))}
  </ol>
);

const page = (c: Ctx, title: string, body: Child, status: 200 | 400 | 413 = 200) =>
  c.html(
    <ConsoleLayout title={title} viewer={c.get('viewer')} csrf={c.get('csrf')} current="/app/rounds/new">
      {body}
    </ConsoleLayout>,
    status,
  );

// ---------------------------------------------------------------------------------------------
// Step 1: the campaign, and the list as a file or pasted

interface StartValues {
  /** The form's own key: a new campaign made by this form is made once, however often it is sent. */
  key: string;
  campaignId: string;
  campaignName: string;
  proId: string;
  pasted: string;
}
type StartErrors = Partial<Record<'campaignId' | 'campaignName' | 'proId' | 'file' | 'pasted', string>>;

async function startPage(c: Ctx, deps: Deps, values: StartValues, errors: StartErrors = {}) {
  const viewer = c.get('viewer');
  const { db } = deps;
  const [campaigns, pros] =
    viewer.kind === 'pro'
      ? [await all((p) => listCampaigns(db, viewer.agencyId, { proId: viewer.proId }, p)), []]
      : await Promise.all([all((p) => listCampaigns(db, viewer.agencyId, {}, p)), all((p) => listPros(db, viewer.agencyId, p)).then((list) => list.filter((pro) => !pro.deactivatedAt))]);
  const option = (campaign: Campaign) => (
    <option value={campaign.campaignId} selected={values.campaignId === campaign.campaignId}>
      {campaign.name}
    </option>
  );
  const anyError = Object.keys(errors).length > 0;
  return page(
    c,
    'Send a round',
    <>
      <h1>Send a round</h1>
      <Steps at={0} />
      {anyError && (
        <p class="notice bad" role="alert">
          Please correct what is marked below.
        </p>
      )}
      <form method="post" action="/app/rounds/new" enctype="multipart/form-data" class="card">
        <CsrfField token={c.get('csrf')} />
        <input type="hidden" name="key" value={values.key || randomUUID()} />
        <h2>Campaign</h2>
        <FieldBox id="campaignId" label="Campaign" error={errors.campaignId}>
          <select id="campaignId" name="campaignId" {...ariaFor('campaignId', false, errors.campaignId)}>
            <option value="new" selected={values.campaignId === 'new' || values.campaignId === ''}>
              A new campaign (name it below)
            </option>
            {viewer.kind === 'pro'
              ? campaigns.map(option)
              : pros
                  .filter((pro) => campaigns.some((cmp) => cmp.proId === pro.proId))
                  .map((pro) => <optgroup label={pro.name}>{campaigns.filter((cmp) => cmp.proId === pro.proId).map(option)}</optgroup>)}
          </select>
        </FieldBox>
        <FieldBox id="campaignName" label="New campaign’s name" hint="Only for a new campaign." error={errors.campaignName}>
          <input type="text" id="campaignName" name="campaignName" value={values.campaignName} maxlength={200} {...ariaFor('campaignName', true, errors.campaignName)} />
        </FieldBox>
        {viewer.kind === 'member' && (
          <FieldBox id="proId" label="The new campaign’s pro" hint="Only for a new campaign." error={errors.proId}>
            <select id="proId" name="proId" {...ariaFor('proId', true, errors.proId)}>
              <option value="">Choose a pro</option>
              {pros.map((pro) => (
                <option value={pro.proId} selected={values.proId === pro.proId}>
                  {pro.name}
                </option>
              ))}
            </select>
          </FieldBox>
        )}
        <h2>Media list</h2>
        <FieldBox
          id="file"
          label="A CSV file"
          hint="Exported from Muck Rack, Cision, Prowly or a spreadsheet (“CSV UTF-8”): up to 2,000 contacts and 1 MB, with a header row. You choose what each column is next."
          error={errors.file}
        >
          <input type="file" id="file" name="file" accept=".csv,.tsv,.txt,text/csv,text/plain" {...ariaFor('file', true, errors.file)} />
        </FieldBox>
        <FieldBox id="pasted" label="Or paste addresses" hint="Addresses, one a line or as copied from an email’s To: field, or CSV text with its header row." error={errors.pasted}>
          <textarea id="pasted" name="pasted" {...ariaFor('pasted', true, errors.pasted)}>
            {values.pasted}
          </textarea>
        </FieldBox>
        <button type="submit">Next: columns</button>
      </form>
    </>,
    anyError ? 400 : 200,
  );
}

/** A file over the limit: the same 413 as a body over the route's limit. */
export const tooLargePage = (c: Context, viewer?: Viewer, csrf?: string) =>
  c.html(
    <ConsoleLayout title="The list is too large" viewer={viewer} csrf={csrf}>
      <h1>The list is too large</h1>
      <p>A media list can have up to 2,000 contacts and 1 MB. Please split it, or remove columns you do not need, and try again.</p>
      <p>
        <a href="/app/rounds/new">Start again</a>
      </p>
    </ConsoleLayout>,
    413,
  );

/** Reads step 1: the list's text, and the campaign (created now when new, once the list reads well). */
async function start(c: Ctx, deps: Deps) {
  const viewer = c.get('viewer');
  const form = (await c.req.parseBody()) as Form;
  const values: StartValues = { key: text(form, 'key'), campaignId: text(form, 'campaignId'), campaignName: text(form, 'campaignName'), proId: text(form, 'proId'), pasted: text(form, 'pasted') };
  const errors: StartErrors = {};
  const file = form.file instanceof File && form.file.size > 0 ? form.file : null;
  if (file && file.size > MAX_MEDIA_LIST_BYTES) return tooLargePage(c, viewer, c.get('csrf'));
  let list: { text: string; parsed: MediaList } | null = null;
  const source = file ? 'file' : 'pasted';
  try {
    const listText = file ? decodeMediaList(new Uint8Array(await file.arrayBuffer())) : values.pasted;
    if (!file && listText.trim() === '') errors.file = 'Choose a file, or paste addresses below.';
    else list = { text: listText, parsed: parseMediaList(listText) };
  } catch (error) {
    if (!(error instanceof MediaListError)) throw error;
    errors[source] = error.message + (file ? ' Choose the file again once it is corrected.' : '');
  }
  const isNew = values.campaignId === 'new' || values.campaignId === '';
  const proId = viewer.kind === 'pro' ? viewer.proId : values.proId;
  if (isNew) {
    if (proId === '') errors.proId = 'Choose the pro whose campaign it is.';
    else if (await isDeactivated(deps, viewer.agencyId, proId)) errors.proId = 'This pro is deactivated: reactivate them to send a round.';
    try {
      parseInput(CampaignInputSchema, { proId, name: values.campaignName });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) {
        if (issue.field === 'name') errors.campaignName = `The name ${issue.message}.`;
        if (issue.field === 'proId') errors.proId = 'Choose the pro whose campaign it is.';
      }
    }
  } else {
    // The list offers only campaigns the viewer may send for: any other is "not found".
    const campaign = await campaignFor(deps, viewer, values.campaignId);
    if (await isDeactivated(deps, viewer.agencyId, campaign.proId)) errors.campaignId = 'The campaign’s pro is deactivated: reactivate them to send a round.';
  }
  if (Object.keys(errors).length > 0 || !list) return startPage(c, deps, values, errors);
  let campaignId = values.campaignId;
  if (isNew) {
    try {
      const key = /^[\w-]{1,64}$/.test(values.key) ? { key: `console:${viewer.agencyId}:${values.key}` } : {};
      campaignId = (await createCampaign(deps.db, viewer.agencyId, { proId, name: values.campaignName }, deps.now(), key)).campaignId;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return startPage(c, deps, values, { proId: 'Choose one of the pros listed.' });
    }
  }
  const mapping = guessMapping(list.parsed.headers);
  const draft: Draft = { campaignId, text: list.text, list: list.parsed, mapping, audience: 'reporter', byType: noPrototype(), attribution: 'anonymous' };
  return mappingPage(c, deps, draft);
}

// ---------------------------------------------------------------------------------------------
// Steps 2 and 3: the list travels in the form (see docs/DESIGN-NOTES.md, "Console: sending a round")

interface Draft {
  campaignId: string;
  /** The list as uploaded or pasted: each step parses it again. */
  text: string;
  list: MediaList;
  mapping: ColumnMapping;
  audience: Audience;
  /** The audience chosen per contact type; a type without one takes its guess, else `audience`. */
  byType: Record<string, Audience | ''>;
  attribution: 'anonymous' | 'named';
}

/**
 * The choices per contact type, keyed by the list's own text: without a prototype, a type named
 * `constructor` or `__proto__` is a key like any other, not an inherited member.
 */
const noPrototype = (): Draft['byType'] => Object.create(null) as Draft['byType'];

const isAudience = (value: string): value is Audience => (AUDIENCES as readonly string[]).includes(value);

/** Reads the draft the hidden fields carry; the list reads as it did in step 1 (it is the same text). */
function readDraft(form: Form): Draft {
  const listText = text(form, 'list');
  const list = parseMediaList(listText);
  const mapping = list.headers.map((_, i) => {
    const value = text(form, `col${i}`);
    return (MEDIA_LIST_FIELDS as readonly string[]).includes(value) ? (value as ColumnMapping[number]) : '';
  });
  // One column per field: a field chosen twice is read from its first column.
  const seen = new Set<string>();
  for (const [i, field] of mapping.entries()) {
    if (field && seen.has(field)) mapping[i] = '';
    if (field) seen.add(field);
  }
  const byType = noPrototype();
  for (let j = 0; typeof form[`typeValue${j}`] === 'string'; j++) {
    const choice = text(form, `type${j}`);
    byType[text(form, `typeValue${j}`)] = isAudience(choice) ? choice : '';
  }
  const audience = text(form, 'audience');
  return {
    campaignId: text(form, 'campaignId'),
    text: listText,
    list,
    mapping,
    audience: isAudience(audience) ? audience : 'reporter',
    byType,
    attribution: text(form, 'attribution') === 'named' ? 'named' : 'anonymous',
  };
}

/** The audience of each contact type: as chosen, else as its words suggest, else the one for all rows. */
function audienceRule(draft: Draft): AudienceRule {
  const types = contactTypes(draft.list, draft.mapping);
  return { all: draft.audience, byType: Object.fromEntries(types.map((t) => [t, draft.byType[t] || guessAudience(t) || draft.audience])) };
}

const DraftFields = ({ draft, except = [] }: { draft: Draft; except?: string[] }) => (
  <>
    <input type="hidden" name="campaignId" value={draft.campaignId} />
    <input type="hidden" name="list" value={draft.text} />
    {!except.includes('mapping') && (
      <>
        {draft.mapping.map((field, i) => (
          <input type="hidden" name={`col${i}`} value={field} />
        ))}
        <input type="hidden" name="audience" value={draft.audience} />
        <input type="hidden" name="attribution" value={draft.attribution} />
        {Object.entries(draft.byType).map(([value, audience], j) => (
          <>
            <input type="hidden" name={`typeValue${j}`} value={value} />
            <input type="hidden" name={`type${j}`} value={audience} />
          </>
        ))}
      </>
    )}
  </>
);

const AudienceOptions = ({ selected, blank }: { selected: string; blank?: string }) => (
  <>
    {blank !== undefined && (
      <option value="" selected={selected === ''}>
        {blank}
      </option>
    )}
    {AUDIENCES.map((a) => (
      <option value={a} selected={selected === a}>
        {AUDIENCE_LABELS[a]}
      </option>
    ))}
  </>
);

async function mappingPage(c: Ctx, deps: Deps, draft: Draft, problems: string[] = []) {
  const campaign = await campaignFor(deps, c.get('viewer'), draft.campaignId);
  const { headers, rows } = draft.list;
  const types = contactTypes(draft.list, draft.mapping);
  const examples = (i: number) => rows.map((r) => r.cells[i]!).filter((v) => v !== '').slice(0, 2);
  return page(
    c,
    'Send a round: columns',
    <>
      <h1>What is in each column?</h1>
      <Steps at={1} />
      <p>
        Campaign <Isolated>{campaign.name}</Isolated>: {rows.length.toLocaleString('en')} {rows.length === 1 ? 'contact' : 'contacts'} read. We guessed what each column holds;
        correct any guess, then preview.
      </p>
      {problems.length > 0 && (
        <div class="notice bad" role="alert">
          {problems.map((p) => (
            <p>{p}</p>
          ))}
        </div>
      )}
      <form method="post" action="/app/rounds/new/preview" enctype="multipart/form-data" class="card">
        <CsrfField token={c.get('csrf')} />
        <DraftFields draft={draft} except={['mapping']} />
        <fieldset class="mapping">
          <legend>Columns of the list</legend>
          {headers.map((header, i) => (
            <div class="map-row">
              <label for={`col${i}`}>
                <Isolated>{header || `Column ${i + 1}`}</Isolated>
              </label>
              <p class="hint" id={`col${i}-hint`}>
                {examples(i).length ? (
                  <>
                    e.g.{' '}
                    {examples(i).map((e, k) => (
                      <>
                        {k > 0 && ', '}
                        <Isolated>{e}</Isolated>
                      </>
                    ))}
                  </>
                ) : (
                  'empty'
                )}
              </p>
              <select id={`col${i}`} name={`col${i}`} aria-describedby={`col${i}-hint`}>
                <option value="" selected={draft.mapping[i] === ''}>
                  Not used
                </option>
                {MEDIA_LIST_FIELDS.map((field) => (
                  <option value={field} selected={draft.mapping[i] === field}>
                    {FIELD_LABELS[field]}
                  </option>
                ))}
              </select>
            </div>
          ))}
        </fieldset>
        <h2>Audience</h2>
        <FieldBox id="audience" label={types.length ? 'Audience of rows without a known contact type' : 'Audience of every row'} hint="Reporters, colleagues and clients get the survey written for them.">
          <select id="audience" name="audience" aria-describedby="audience-hint">
            <AudienceOptions selected={draft.audience} />
          </select>
        </FieldBox>
        {types.length > 0 && types.length <= MAX_TYPE_CHOICES && (
          <fieldset class="mapping">
            <legend>Audience of each contact type</legend>
            {types.map((type, j) => (
              <div class="map-row">
                <input type="hidden" name={`typeValue${j}`} value={type} />
                <label for={`type${j}`}>
                  <Isolated>{type}</Isolated>
                </label>
                <select id={`type${j}`} name={`type${j}`}>
                  <AudienceOptions selected={draft.byType[type] ?? guessAudience(type) ?? ''} blank="As above" />
                </select>
              </div>
            ))}
          </fieldset>
        )}
        {types.length > MAX_TYPE_CHOICES && <p class="hint">{types.length} contact types: each takes the audience its words suggest (reporter, editor… or client, colleague), else the one above.</p>}
        <FieldBox id="attribution" label="Answers" hint="Named answers show the respondent’s name to the pro; the survey says so.">
          <select id="attribution" name="attribution" aria-describedby="attribution-hint">
            <option value="anonymous" selected={draft.attribution === 'anonymous'}>
              Anonymous
            </option>
            <option value="named" selected={draft.attribution === 'named'}>
              Named
            </option>
          </select>
        </FieldBox>
        <div class="actions">
          <button type="submit">Preview</button>
          <button type="submit" class="secondary" formaction="/app/rounds/new/map">
            Update the contact types
          </button>
        </div>
      </form>
    </>,
    problems.length ? 400 : 200,
  );
}

/** A recipient's validation issue (`recipients.3.name`) as its row says it. */
const rowProblems = (draft: Draft, issues: FieldIssue[]) =>
  issues.map(({ field, message }) => {
    const [, index, name] = /^recipients\.(\d+)\.(\w+)$/.exec(field) ?? [];
    return index === undefined ? message : `Row ${draft.list.rows[Number(index)]!.row}: the ${name === 'outlet' ? 'outlet' : name} ${message}.`;
  });

/** The recipients as mapped, or the mapping page again with what is wrong. */
async function recipientsOrProblems(c: Ctx, deps: Deps, draft: Draft) {
  try {
    const recipients = recipientsOf(draft.list, draft.mapping, audienceRule(draft));
    const input = { recipients, attribution: draft.attribution };
    return { input, preview: await previewRound(deps.db, c.get('viewer').agencyId, draft.campaignId, input, deps.now()) };
  } catch (error) {
    if (error instanceof MediaListError) return mappingPage(c, deps, draft, [error.message]);
    if (error instanceof ValidationError) return mappingPage(c, deps, draft, rowProblems(draft, error.issues));
    throw error;
  }
}

const dateOf = (at: string, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' }).format(new Date(at));

const skipText = (s: Skipped, timeZone: string) => `Skipped: ${SKIP_LABELS[s.reason]}${s.until ? ` until ${dateOf(s.until, timeZone)}` : ''}`;

async function previewPage(c: Ctx, deps: Deps, draft: Draft, preview: RoundPreview) {
  const viewer = c.get('viewer');
  const campaign = await campaignFor(deps, viewer, draft.campaignId);
  const { timezone } = await getAgency(deps.db, viewer.agencyId);
  const recipients = recipientsOf(draft.list, draft.mapping, audienceRule(draft));
  const skipped = new Map(preview.skipped.map((s) => [s.index, s]));
  const n = preview.accepted.length;
  return page(
    c,
    'Send a round: preview',
    <>
      <h1>Preview</h1>
      <Steps at={2} />
      <p>
        Campaign <Isolated>{campaign.name}</Isolated>: <strong>{n.toLocaleString('en')}</strong> {n === 1 ? 'contact gets' : 'contacts get'} the survey,{' '}
        <strong>{preview.skipped.length.toLocaleString('en')}</strong> skipped. Answers are {draft.attribution}.
      </p>
      <form method="post" action="/app/rounds/new/send" enctype="multipart/form-data" class="card actions">
        <CsrfField token={c.get('csrf')} />
        <DraftFields draft={draft} />
        {/* Sending twice (a double click, a resent form) makes one round: its id follows from this key. */}
        <input type="hidden" name="key" value={randomUUID()} />
        <button type="submit" disabled={n === 0}>
          Send to {n.toLocaleString('en')} {n === 1 ? 'contact' : 'contacts'}
        </button>
        <button type="submit" class="secondary" formaction="/app/rounds/new/map">
          Change the columns
        </button>
      </form>
      <h2 id="preview-rows">Every row of the list</h2>
      <div class="table-wrap">
        <table class="preview" aria-labelledby="preview-rows">
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Contact</th>
              <th scope="col">Audience</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {recipients.map((r, index) => {
              const skip = skipped.get(index);
              return (
                <tr class={skip ? 'skipped' : undefined}>
                  <td>{draft.list.rows[index]!.row}</td>
                  <td>
                    <Isolated>{r.email || '(no address)'}</Isolated>
                    {r.name && (
                      <>
                        <br />
                        <Isolated>{r.name}</Isolated>
                      </>
                    )}
                    {r.outlet && (
                      <>
                        <br />
                        <span class="muted">
                          <Isolated>{r.outlet}</Isolated>
                        </span>
                      </>
                    )}
                  </td>
                  <td>{AUDIENCE_LABELS[r.audience]}</td>
                  <td>{skip ? skipText(skip, timezone) : 'Accepted'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>,
  );
}

const KEY_PATTERN = /^[0-9a-f-]{36}$/;

// ---------------------------------------------------------------------------------------------
// A round's page

const STATUS_TEXT: Record<Round['status'], string> = { open: 'Open', cancelled: 'Cancelled', closed: 'Closed' };
const canManage = (viewer: Viewer, round: Round) => isAdmin(viewer) || (viewer.kind === 'pro' && viewer.proId === round.proId);

/** A round the viewer may read: a pro's own only, any of the agency's for members. */
async function roundFor(deps: Deps, viewer: Viewer, roundId: string): Promise<RoundWithProgress> {
  const round = await getRound(deps.db, viewer.agencyId, roundId);
  assertCanSeePro(viewer, round.proId);
  return round;
}

const listFormat = (items: string[]) => new Intl.ListFormat('en', { type: 'conjunction' }).format(items);

async function roundPage(c: Ctx, deps: Deps, round: RoundWithProgress, confirming?: 'cancel' | 'close') {
  const viewer = c.get('viewer');
  const { timezone } = await getAgency(deps.db, viewer.agencyId);
  const shown = presentRound(round);
  const counts = shown.counts;
  const waiting = counts.pending + counts.sending;
  // Failures with their reason: anonymous rounds show delivery only, as the API's list does.
  const failures =
    counts.failed + counts.bounced > 0
      ? (await all((p) => listInvitations(deps.db, round.roundId, p))).filter((i) => {
          const status = round.attribution === 'named' ? i.status : deliveryStatus(i);
          return status === 'failed' || status === 'bounced';
        })
      : [];
  const skipped = await all((p) => listSkipped(deps.db, round.roundId, p));
  const live = round.status === 'open' && waiting > 0;
  const day = (at: Date) => new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: timezone }).format(at);
  const reminders = AUDIENCES.filter((a) => round.reminderDays[a].length > 0).map((a) => {
    const planned = round.reminderDays[a].map((d) => new Date(new Date(round.createdAt).getTime() + d * 86_400_000)).filter((at) => at.toISOString() < round.closesAt);
    return `${AUDIENCE_LABELS[a]}s: ${planned.length ? `${listFormat(round.reminderDays[a].slice(0, planned.length).map(String))} days after their invitation (around ${listFormat(planned.map(day))})` : 'none before the close'}`;
  });
  const row = (label: string, value: number, id: string) => (
    <tr>
      <th scope="row">{label}</th>
      <td id={id}>{value.toLocaleString('en')}</td>
    </tr>
  );
  return c.html(
    <ConsoleLayout title={`Round: ${round.campaignName}`} viewer={viewer} csrf={c.get('csrf')}>
      <h1>
        Round for <Isolated>{round.campaignName}</Isolated>
      </h1>
      <p>
        Pro: <Isolated>{round.proName}</Isolated>. Status: <strong id="round-status">{STATUS_TEXT[round.status]}</strong>. Sent on {dateOf(round.createdAt, timezone)};{' '}
        {round.status === 'closed' ? 'closed' : 'closes'} on {dateOf(round.closedAt ?? round.closesAt, timezone)}. Answers are {round.attribution}.
      </p>
      <section id="progress" data-live={live ? 'true' : 'false'} aria-live="polite" class="card">
        <h2>Progress</h2>
        <table class="counts">
          <tbody>
            {row('Waiting to be sent', waiting, 'count-waiting')}
            {/* Every email that arrived, answered or not (the status `sent` alone is those not answered yet); the id is what tests wait on. */}
            {row('Delivered', deliveredCount(round), 'count-sent')}
            {row('Answered', counts.responded, 'count-answered')}
            {row('Bounced', counts.bounced, 'count-bounced')}
            {row('Failed', counts.failed, 'count-failed')}
            {row('Not sent (cancelled)', counts.skipped, 'count-skipped')}
          </tbody>
        </table>
        <p class="hint">Delivered counts everyone the email reached, whether they answered or not.</p>
        {round.attribution === 'anonymous' && <p class="hint">Anonymous answers are counted when the round closes and they are released.</p>}
        {live && (
          <p>
            Sending…{' '}
            <a href={`/app/rounds/${round.roundId}`} class="no-print">
              Refresh
            </a>
          </p>
        )}
        {failures.length > 0 && (
          <>
            <h3>Not delivered</h3>
            <ul>
              {failures.map((i) => (
                <li>
                  <Isolated>{i.email}</Isolated>: {i.status === 'bounced' || deliveryStatus(i) === 'bounced' ? 'bounced' : `failed (${i.failure ?? 'no reason given'})`}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <h2>Reminders</h2>
      {round.status === 'open' ? (
        reminders.length ? (
          <ul>
            {reminders.map((r) => (
              <li>{r}</li>
            ))}
          </ul>
        ) : (
          <p>No reminders are planned.</p>
        )
      ) : (
        <p>No more reminders: the round is {round.status}.</p>
      )}
      <p class="hint">Only to those who have not answered, and none after the close.</p>
      <h2>Skipped rows</h2>
      {skipped.length ? (
        <ul>
          {skipped.map((s) => (
            <li>
              <Isolated>{s.email || '(no address)'}</Isolated>: {skipText(s, timezone).replace('Skipped: ', '')}
            </li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
      {round.status === 'open' && canManage(viewer, round) && (
        <form method="post" action={`/app/rounds/${round.roundId}/close`} class="card no-print">
          <CsrfField token={c.get('csrf')} />
          {confirming === 'close' ? (
            <>
              <h2 id="confirm">Close this round now?</h2>
              <p>No more answers are taken and no reminder goes out. The answers given so far are released now, as at the close: an audience with fewer than {promisedThreshold(round)} answers waits, anonymous, until enough others join it.</p>
              <input type="hidden" name="confirm" value="yes" />
              <div class="actions">
                <button type="submit">Yes, close it now</button>
                <a href={`/app/rounds/${round.roundId}`}>Keep it open</a>
              </div>
            </>
          ) : (
            <button type="submit" class="secondary">
              Close now…
            </button>
          )}
        </form>
      )}
      {round.status === 'open' && canManage(viewer, round) && (
        <form method="post" action={`/app/rounds/${round.roundId}/cancel`} class="card no-print">
          <CsrfField token={c.get('csrf')} />
          {confirming === 'cancel' ? (
            <>
              <h2 id="confirm">Cancel this round?</h2>
              <p>Nothing more is sent: the {waiting.toLocaleString('en')} emails not sent yet are dropped, and no reminder goes out. Answers already given are kept.</p>
              <input type="hidden" name="confirm" value="yes" />
              <div class="actions">
                <button type="submit" class="danger">
                  Yes, cancel the round
                </button>
                <a href={`/app/rounds/${round.roundId}`}>Keep it</a>
              </div>
            </>
          ) : (
            <button type="submit" class="secondary">
              Cancel this round…
            </button>
          )}
        </form>
      )}
      {live && <script src="/app/rounds/progress.js" defer></script>}
    </ConsoleLayout>,
  );
}

/**
 * While a round is sending, its page fetches itself every few seconds and replaces the progress
 * section (announced politely to screen readers); without script the Refresh link does the same.
 * A meta refresh would reload the whole page under the reader (axe's `meta-refresh` rule).
 */
const PROGRESS_SCRIPT = `(() => {
  const tick = async () => {
    const current = document.getElementById('progress');
    if (!current || current.dataset.live !== 'true') return;
    const response = await fetch(location.href, { credentials: 'same-origin' }).catch(() => null);
    if (response && response.ok) {
      const next = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('progress');
      if (next) current.replaceWith(document.adoptNode(next));
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
})();
`;

export function roundRoutes(deps: Deps) {
  return new Hono<ConsoleEnv>()
    .get('/new', requireSender, (c) => startPage(c, deps, { key: '', campaignId: c.req.query('campaignId') ?? '', campaignName: '', proId: '', pasted: '' }))
    .post('/new', requireSender, (c) => start(c, deps))
    .post('/new/map', requireSender, async (c) => {
      const draft = await draftOrStart(c, deps);
      return 'list' in draft ? mappingPage(c, deps, draft) : draft;
    })
    .post('/new/preview', requireSender, async (c) => {
      const draft = await draftOrStart(c, deps);
      if (!('list' in draft)) return draft;
      const result = await recipientsOrProblems(c, deps, draft);
      return 'preview' in result ? previewPage(c, deps, draft, result.preview) : result;
    })
    .post('/new/send', requireSender, async (c) => {
      const draft = await draftOrStart(c, deps);
      if (!('list' in draft)) return draft;
      const key = text((await c.req.parseBody()) as Form, 'key');
      if (!KEY_PATTERN.test(key)) throw new ValidationError([{ field: 'key', message: 'is missing: send from the preview page' }]);
      const result = await recipientsOrProblems(c, deps, draft);
      if (!('preview' in result)) return result;
      const { round } = await sendRound(deps, c.get('viewer').agencyId, draft.campaignId, result.input, { idempotencyKey: `console:${key}` });
      return c.redirect(`/app/rounds/${round.roundId}`, 303);
    })
    .get('/progress.js', (c) => c.body(PROGRESS_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }))
    .get('/:roundId', async (c) => roundPage(c, deps, await roundFor(deps, c.get('viewer'), c.req.param('roundId'))))
    .post('/:roundId/cancel', async (c) => {
      const viewer = c.get('viewer');
      const round = await roundFor(deps, viewer, c.req.param('roundId'));
      if (!canManage(viewer, round)) throw new ForbiddenError('Only the pro whose round it is, or an admin, can cancel it');
      if (text((await c.req.parseBody()) as Form, 'confirm') !== 'yes') return roundPage(c, deps, round, 'cancel');
      await cancelRound(deps.db, viewer.agencyId, round.roundId);
      return c.redirect(`/app/rounds/${round.roundId}`, 303);
    })
    .post('/:roundId/close', async (c) => {
      const viewer = c.get('viewer');
      const round = await roundFor(deps, viewer, c.req.param('roundId'));
      if (!canManage(viewer, round)) throw new ForbiddenError('Only the pro whose round it is, or an admin, can close it');
      if (text((await c.req.parseBody()) as Form, 'confirm') !== 'yes') return roundPage(c, deps, round, 'close');
      await closeRoundNow(deps.db, viewer.agencyId, round.roundId, deps.now(), deps.queue);
      return c.redirect(`/app/rounds/${round.roundId}`, 303);
    });
}

/** The draft of steps 2 and 3, its campaign checked; a list that no longer reads sends back to step 1. */
async function draftOrStart(c: Ctx, deps: Deps): Promise<Draft | Response> {
  const form = (await c.req.parseBody()) as Form;
  await campaignFor(deps, c.get('viewer'), text(form, 'campaignId'));
  try {
    return readDraft(form);
  } catch (error) {
    if (!(error instanceof MediaListError)) throw error;
    return startPage(c, deps, { key: text(form, 'key'), campaignId: text(form, 'campaignId'), campaignName: '', proId: '', pasted: '' }, { file: error.message });
  }
}
