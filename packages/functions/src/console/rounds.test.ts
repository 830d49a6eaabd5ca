import { describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createCampaign, createMember, createPro, createRound, deactivatePro, getRound, handleSesNotification, listCampaigns, listRounds, MailerError, openInvitation, submitResponse, suppress } from '@rapport/core';
import { deliver } from '@rapport/core/sending/dispatch';
import { agencyFixture, consoleSession, sesEventTags, testDeps } from '@rapport/testing';
import { deliveryDeps, type Deps } from '../deps';

type Session = Awaited<ReturnType<typeof consoleSession>>;

/** The text a page shows: tags dropped, entities decoded, spaces collapsed. */
const shown = (html: string) =>
  html
    .replace(/<\/?bdi>/g, '')
    .replace(/<(script|style)[^]*?<\/\1>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

let n = 0;
async function setup(deps: Deps = testDeps()) {
  const f = await agencyFixture(deps);
  const u = `${++n}-${f.agencyId.slice(-6).toLowerCase()}`;
  const jane = await createPro(deps.db, f.agencyId, { name: 'Jane Doe', email: `jane-${u}@acme.example` }, deps.now());
  const omar = await createPro(deps.db, f.agencyId, { name: 'Omar Ali', email: `omar-${u}@acme.example` }, deps.now());
  const janes = await createCampaign(deps.db, f.agencyId, { proId: jane.proId, name: 'Spring Launch' }, deps.now());
  const omars = await createCampaign(deps.db, f.agencyId, { proId: omar.proId, name: 'Omar’s Fair' }, deps.now());
  const admin = await createMember(deps.db, f.agencyId, { name: 'Ada Admin', email: `ada-${u}@agency.example`, role: 'admin' }, deps.now());
  const lead = await createMember(deps.db, f.agencyId, { name: 'Lee Lead', email: `lee-${u}@agency.example`, role: 'lead' }, deps.now());
  const sessions = {
    jane: await consoleSession(deps, { kind: 'pro', agencyId: f.agencyId, proId: jane.proId }),
    admin: await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: admin.memberId }),
    lead: await consoleSession(deps, { kind: 'member', agencyId: f.agencyId, memberId: lead.memberId }),
  };
  const post = async (s: Session, path: string, fields: Record<string, string | Blob>, { csrf = true } = {}) => {
    const form = new FormData();
    if (csrf) form.set('_csrf', s.csrf);
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    const res = await f.app.request(path, { method: 'POST', headers: { Cookie: s.cookie }, body: form });
    return { status: res.status, location: res.headers.get('Location'), text: shown(await res.text()) };
  };
  const get = async (s: Session, path: string) => {
    const res = await f.app.request(path, { headers: { Cookie: s.cookie } });
    return { status: res.status, text: shown(await res.text()) };
  };
  const csv = (body: string) => new File([body], 'list.csv', { type: 'text/csv' });
  return { deps, ...f, u, jane, omar, janes, omars, sessions, post, get, csv };
}

describe('sending a round from the console', () => {
  it('names the row of a malformed file, and refuses an empty one or one without an email column', async () => {
    const { sessions, post, csv, janes } = await setup();
    const upload = (body: string | Blob) => post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: typeof body === 'string' ? csv(body) : body });
    const cases: [string | Blob, string][] = [
      ['Email,Name\na@x.example,"Ann\nb@x.example,B\n', 'Row 2 opens a quote (") that is never closed.'],
      ['Email,Name\na@x.example,A\nb@x.example,A,B\n', 'Row 3 has 3 columns where the header (row 1) has 2.'],
      [new Blob([new TextEncoder().encode('Email,Name\na@x.example,A\nb@x.example,'), new Uint8Array([0xe9, 0x0a])]), 'Row 3 is not UTF-8 text.'],
      ['\r\n', 'The list is empty.'],
      ['Email,Name\n', 'The list has a header row but no contacts under it.'],
    ];
    for (const [body, message] of cases) {
      const res = await upload(body);
      expect(res.status).toBe(400);
      expect(res.text).toContain(message);
    }
    // No email column: the mapping page says so when asked for a preview.
    const start = await upload('Name,Outlet\nAna,The Daily\n');
    expect(start.status).toBe(200);
    const preview = await post(sessions.jane, '/app/rounds/new/preview', { campaignId: janes.campaignId, list: 'Name,Outlet\nAna,The Daily\n', col0: 'fullName', col1: 'outlet' });
    expect(preview.status).toBe(400);
    expect(preview.text).toContain('No column is read as the email address');
  });

  it('refuses 2,001 rows naming the first one over, and a file over 1 MB with a 413 page', async () => {
    const { sessions, post, csv, janes } = await setup();
    const rows = Array.from({ length: 2001 }, (_, i) => `p${i}@x.example,Person ${i}`).join('\n');
    const many = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(`Email,Name\n${rows}\n`) });
    expect(many.status).toBe(400);
    expect(many.text).toContain('The list has 2,001 contacts; a round goes to at most 2,000. Row 2002 is the first one over.');
    const big = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(`Email,Note\na@x.example,${'x'.repeat(1024 * 1024)}\n`) });
    expect(big.status).toBe(413);
    expect(big.text).toContain('The list is too large');
    // Over the route's body limit: refused before the form is read.
    const huge = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv('x'.repeat(2 * 1024 * 1024 + 70 * 1024)) });
    expect(huge.status).toBe(413);
    // Other console forms keep the small limit.
    const cancel = await post(sessions.jane, '/app/rounds/rnd_x/cancel', { pad: 'x'.repeat(70 * 1024) });
    expect(cancel.status).toBe(413);
    expect(cancel.text).toContain('This form is too large');
  });

  it('reads the list the browser sends back (every line break CRLF) as the file read: same contacts, row numbers and size; a CR-only file too', async () => {
    const { sessions, post, csv, janes, u } = await setup();
    // Chromium posts a hidden field's LF and lone CR as CRLF, those inside quoted values too (seen in a real form post).
    const resent = (list: string) => list.replace(/\r\n?|\n/g, '\r\n');
    const list = `Email,Note\nann-${u}@news.example,"first line\nsecond line"\nbo-${u}@news.example,x\nnot-an-address,y\n`;
    const start = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(list.replaceAll('\n', '\r')) });
    expect(start.status).toBe(200);
    expect(start.text).toContain('Spring Launch: 3 contacts read.');
    const preview = await post(sessions.jane, '/app/rounds/new/preview', { campaignId: janes.campaignId, list: resent(list), col0: 'email', col1: '', audience: 'reporter' });
    expect(preview.status).toBe(200);
    const rows = preview.text.slice(preview.text.indexOf('Row Contact Audience Result') + 'Row Contact Audience Result'.length).trim();
    expect(rows).toBe([`2 ann-${u}@news.example Reporter Accepted`, `4 bo-${u}@news.example Reporter Accepted`, '5 not-an-address Reporter Skipped: not a valid address'].join(' '));
    // A file just under 1 MB with 2,000 lines: the CRs the browser adds do not make it too large at the next step.
    const bare = `Email,Note\n${Array.from({ length: 1999 }, (_, i) => `p${i}-${u}@x.example,`).join('\n')}\n`;
    const big = bare.replace(/,\n/g, `,${'n'.repeat(Math.floor((1024 * 1024 - bare.length) / 1999))}\n`);
    expect(big.length).toBeGreaterThan(1024 * 1024 - 1999);
    expect(big.length).toBeLessThanOrEqual(1024 * 1024);
    expect((await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(big) })).status).toBe(200);
    const mapped = await post(sessions.jane, '/app/rounds/new/map', { campaignId: janes.campaignId, list: resent(big), col0: 'email', col1: '' });
    expect(mapped.status).toBe(200);
    expect(mapped.text).toContain('Spring Launch: 1,999 contacts read.');
    // Excel's trailing rows of empty cells (a "used range" past the data): left out, but each line gains a CR on the way back.
    const padded = `${big.slice(0, 100_000).replace(/\n[^\n]*$/, '\n')}${',\n'.repeat(470_000)}`;
    expect(padded.length).toBeLessThanOrEqual(1024 * 1024);
    expect((await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(padded) })).status).toBe(200);
    const remapped = await post(sessions.jane, '/app/rounds/new/map', { campaignId: janes.campaignId, list: resent(padded), col0: 'email', col1: '' });
    expect(remapped.status).toBe(200);
  });

  it('refuses a list of over 200 columns next to the file field, before any page of them (20,000 empty columns passed step 1, then were too large for the next)', async () => {
    const { sessions, post, csv, janes } = await setup();
    const list = (columns: number) => `Email,Name${','.repeat(columns - 2)}\n${Array.from({ length: 20 }, (_, i) => `p${i}@x.example,P${','.repeat(columns - 2)}`).join('\n')}\n`;
    for (const columns of [201, 20_000]) {
      const res = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(list(columns)) });
      expect(res.status).toBe(400);
      expect(res.text).toContain(`A CSV file Exported from Muck Rack, Cision, Prowly or a spreadsheet (“CSV UTF-8”): up to 2,000 contacts and 1 MB, with a header row. You choose what each column is next. The header (row 1) has ${columns.toLocaleString('en')} columns; a media list can have at most 200.`);
    }
    const ok = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, file: csv(list(200)) });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('Spring Launch: 20 contacts read.');
  });

  it('takes pasted addresses, previews every skip reason with the dates of a throttle, and writes nothing', async () => {
    const { deps, agencyId, sessions, post, janes, u } = await setup();
    const a = (who: string) => `${who}-${u}@x.example`;
    await suppress(deps.db, a('gone'), 'bounced', { global: true }, deps.now());
    await suppress(deps.db, a('nope'), 'unsubscribed', { agencyId }, deps.now());
    await suppress(deps.db, a('angry'), 'complained', { global: true }, deps.now());
    const earlier = await createRound(deps.db, agencyId, janes.campaignId, { recipients: [{ email: a('busy'), audience: 'reporter' }] }, new Date(deps.now().getTime() - 86_400_000 * 10));
    const pasted = [a('ana'), 'not-an-address', a('gone'), a('nope'), a('angry'), a('busy'), a('ANA')].join('\n');
    const map = await post(sessions.jane, '/app/rounds/new', { campaignId: janes.campaignId, pasted });
    expect(map.status).toBe(200);
    expect(map.text).toContain('Spring Launch: 7 contacts read.');
    const preview = await post(sessions.jane, '/app/rounds/new/preview', { campaignId: janes.campaignId, list: pasted, col0: 'email', audience: 'reporter' });
    expect(preview.status).toBe(200);
    const until = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' }).format(
      // The reporter window (90 days by default) ends after the 24 hours between any two surveys.
      new Date(new Date(earlier.round.createdAt).getTime() + 90 * 86_400_000),
    );
    const rows = preview.text.slice(preview.text.indexOf('Row Contact Audience Result') + 'Row Contact Audience Result'.length).trim();
    expect(preview.text).toContain('Spring Launch: 1 contact gets the survey, 6 skipped.');
    expect(rows).toBe(
      [
        `1 ${a('ana')} Reporter Accepted`,
        '2 not-an-address Reporter Skipped: not a valid address',
        `3 ${a('gone')} Reporter Skipped: bounced before`,
        `4 ${a('nope')} Reporter Skipped: unsubscribed`,
        `5 ${a('angry')} Reporter Skipped: marked a survey as spam`,
        `6 ${a('busy')} Reporter Skipped: surveyed too recently until ${until}`,
        `7 ${a('ANA')} Reporter Skipped: already in the list above`,
      ].join(' '),
    );
    expect((await listRounds(deps.db, agencyId, janes.campaignId, { limit: 10 })).items.map((r) => r.roundId)).toEqual([earlier.round.roundId]);
  });

  it('sends one round however often Send is posted, and the round page shows it', async () => {
    const { deps, agencyId, sessions, post, get, janes, u } = await setup();
    const list = `Name;E-mail;Publication;Type\r\nAna Diaz;ana-${u}@news.example;The Daily;Journalist\r\nBo Chen;bo-${u}@client.example;;Client\r\n`;
    const fields = { campaignId: janes.campaignId, list, col0: 'fullName', col1: 'email', col2: 'outlet', col3: 'contactType', audience: 'reporter', typeValue0: 'Journalist', type0: '', typeValue1: 'Client', type1: 'client', key: crypto.randomUUID() };
    const sends = await Promise.all([post(sessions.jane, '/app/rounds/new/send', fields), post(sessions.jane, '/app/rounds/new/send', fields)]);
    expect(sends.map((s) => s.status)).toEqual([303, 303]);
    expect(sends[0]!.location).toBe(sends[1]!.location);
    const rounds = (await listRounds(deps.db, agencyId, janes.campaignId, { limit: 10 })).items;
    expect(rounds).toHaveLength(1);
    expect(sends[0]!.location).toBe(`/app/rounds/${rounds[0]!.roundId}`);
    const invitations = await deps.db.doc.send(
      new QueryCommand({ TableName: deps.db.table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)', ExpressionAttributeValues: { ':pk': `RND#${rounds[0]!.roundId}`, ':p': 'INV#' } }),
    );
    expect(invitations.Items!.map((i) => [i.email, i.name, i.outlet, i.audience]).sort()).toEqual([
      [`ana-${u}@news.example`, 'Ana Diaz', 'The Daily', 'reporter'],
      [`bo-${u}@client.example`, 'Bo Chen', null, 'client'],
    ]);
    // Sent again after it is made: the same round still.
    expect((await post(sessions.jane, '/app/rounds/new/send', fields)).location).toBe(sends[0]!.location);
    const page = await get(sessions.jane, sends[0]!.location!);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Round for Spring Launch');
    expect(page.text).toContain('Reporters: 3 days after their invitation');
    // Without a key, Send is refused rather than risking a second round.
    const { key: _key, ...keyless } = fields;
    expect((await post(sessions.jane, '/app/rounds/new/send', keyless)).status).toBe(400);
  });

  it("a round's page: delivered, answered, bounced, failed with its reason, waiting, the close date", async () => {
    const { deps, agencyId, sessions, get, janes, u } = await setup();
    /** A round of nine: five answer, one does not, one fails, one bounces, one is not sent yet. */
    const roundOf = async (attribution: 'named' | 'anonymous') => {
      const to = ['a1', 'a2', 'a3', 'a4', 'a5', 'quiet', 'fails', 'bounces', 'waits'].map((who) => `${who}-${attribution}-${u}@news.example`);
      const { round, accepted } = await createRound(deps.db, agencyId, janes.campaignId, { recipients: to.map((email) => ({ email, audience: 'reporter' as const })), attribution }, deps.now());
      const ref = (i: number) => ({ roundId: round.roundId, invitationId: accepted[i]!.invitationId });
      for (const i of [0, 1, 2, 3, 4, 5, 7]) expect(await deliver(deliveryDeps(deps), { kind: 'invitation', ...ref(i) })).toBe('sent');
      for (const i of [0, 1, 2, 3, 4]) await submitResponse(deps.db, accepted[i]!, { responsiveness: 4 }, deps.now());
      const rejecting = { send: () => Promise.reject(new MailerError('Address blacklisted', 'MessageRejected', false, undefined, true)) };
      expect(await deliver({ ...deliveryDeps(deps), mailer: rejecting }, { kind: 'invitation', ...ref(6) })).toBe('failed');
      const { invitation } = await openInvitation(deps.db, ref(7));
      const bounce = {
        notificationType: 'Bounce',
        bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: to[7] }], timestamp: deps.now().toISOString(), feedbackId: 'f' },
        mail: { timestamp: deps.now().toISOString(), source: 'surveys@rapport.example', messageId: invitation.messageId, destination: [to[7]], tags: sesEventTags(invitation) },
      };
      expect((await handleSesNotification(deps.db, JSON.stringify(bounce), deps.now())).invitation).toMatchObject({ status: 'bounced' });
      const page = await get(sessions.jane, `/app/rounds/${round.roundId}`);
      expect(page.status).toBe(200);
      return { round, to, text: page.text };
    };

    // Delivered counts the answered emails too (the API's `sent` alone would read 1 beside Answered 5).
    const named = await roundOf('named');
    expect(named.text).toContain('Progress Waiting to be sent 1 Delivered 6 Answered 5 Bounced 1 Failed 1 Not sent (cancelled) 0 ');
    // Not delivered, each with its reason (in the order of the invitations' ids).
    expect(named.text).toMatch(/Not delivered \S+: (bounced|failed \(MessageRejected\)) \S+: (bounced|failed \(MessageRejected\)) Reminders/);
    for (const line of [`${named.to[6]}: failed (MessageRejected)`, `${named.to[7]}: bounced`]) expect(named.text).toContain(line);
    const closes = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(named.round.closesAt));
    expect(named.text).toContain(`closes on ${closes},`);
    // An anonymous round's answers count once released at the close; its Delivered does not move with them.
    const anonymous = await roundOf('anonymous');
    expect(anonymous.text).toContain('Progress Waiting to be sent 1 Delivered 6 Answered 0 Bounced 1 Failed 1 Not sent (cancelled) 0 ');
  });

  it('closes a round now, after a confirmation, for its pro or an admin; not for a lead', async () => {
    const { deps, agencyId, sessions, post, get, janes, u } = await setup();
    const { round } = await createRound(deps.db, agencyId, janes.campaignId, { recipients: [{ email: `z-${u}@x.example`, audience: 'client' }] }, deps.now());
    expect((await get(sessions.jane, `/app/rounds/${round.roundId}`)).text).toContain('Close now…');
    expect((await post(sessions.lead, `/app/rounds/${round.roundId}/close`, { confirm: 'yes' })).status).toBe(403);
    const asked = await post(sessions.jane, `/app/rounds/${round.roundId}/close`, {});
    expect([asked.status, asked.text.includes('Close this round now?')]).toEqual([200, true]);
    expect((await getRound(deps.db, agencyId, round.roundId)).status).toBe('open');
    const closed = await post(sessions.jane, `/app/rounds/${round.roundId}/close`, { confirm: 'yes' });
    expect([closed.status, closed.location]).toEqual([303, `/app/rounds/${round.roundId}`]);
    expect((await getRound(deps.db, agencyId, round.roundId)).status).toBe('closed');
    expect((await get(sessions.jane, `/app/rounds/${round.roundId}`)).text).not.toContain('Close now…');
  });

  it('keeps a pro to their own campaigns and rounds, lets leads read but not send or cancel, and needs the CSRF token', async () => {
    const { deps, agencyId, sessions, post, get, omars, janes, csv, u } = await setup();
    const omarsRound = await createRound(deps.db, agencyId, omars.campaignId, { recipients: [{ email: `x-${u}@x.example`, audience: 'client' }] }, deps.now());
    const janesRound = await createRound(deps.db, agencyId, janes.campaignId, { recipients: [{ email: `y-${u}@x.example`, audience: 'client' }] }, deps.now());
    const file = csv(`Email\nz-${u}@x.example\n`);
    for (const res of [
      await post(sessions.jane, '/app/rounds/new', { campaignId: omars.campaignId, file }),
      await post(sessions.jane, '/app/rounds/new/preview', { campaignId: omars.campaignId, list: 'Email\na@x.example\n', col0: 'email' }),
      await post(sessions.jane, '/app/rounds/new/send', { campaignId: omars.campaignId, list: 'Email\na@x.example\n', col0: 'email', key: crypto.randomUUID() }),
      await get(sessions.jane, `/app/rounds/${omarsRound.round.roundId}`),
      await post(sessions.jane, `/app/rounds/${omarsRound.round.roundId}/cancel`, { confirm: 'yes' }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.text).toContain('Page not found');
    }
    expect((await listRounds(deps.db, agencyId, omars.campaignId, { limit: 10 })).items).toHaveLength(1);
    // The pro's own campaigns only are offered.
    const start = await get(sessions.jane, '/app/rounds/new');
    expect(start.text).toContain('Spring Launch');
    expect(start.text).not.toContain('Omar’s Fair');
    // An admin is offered every campaign, grouped by pro.
    expect((await get(sessions.admin, '/app/rounds/new')).text).toContain('Omar’s Fair');

    // A lead reads any round but neither sends nor cancels.
    expect((await get(sessions.lead, `/app/rounds/${omarsRound.round.roundId}`)).status).toBe(200);
    expect((await get(sessions.lead, `/app/rounds/${omarsRound.round.roundId}`)).text).not.toContain('Cancel this round');
    const cancel = await post(sessions.lead, `/app/rounds/${omarsRound.round.roundId}/cancel`, { confirm: 'yes' });
    expect(cancel.status).toBe(403);
    expect(cancel.text).toContain('Only the pro whose round it is, or an admin, can cancel it');
    expect((await get(sessions.lead, '/app/rounds/new')).status).toBe(403);
    expect((await getRound(deps.db, agencyId, omarsRound.round.roundId)).status).toBe('open');

    // Without the token: refused, nothing cancelled.
    expect((await post(sessions.jane, `/app/rounds/${janesRound.round.roundId}/cancel`, { confirm: 'yes' }, { csrf: false })).status).toBe(403);
    expect((await getRound(deps.db, agencyId, janesRound.round.roundId)).status).toBe('open');
    // The pro cancels their own: a confirmation first, then the round is cancelled.
    const confirm = await post(sessions.jane, `/app/rounds/${janesRound.round.roundId}/cancel`, {});
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Cancel this round? Nothing more is sent');
    expect((await getRound(deps.db, agencyId, janesRound.round.roundId)).status).toBe('open');
    const done = await post(sessions.jane, `/app/rounds/${janesRound.round.roundId}/cancel`, { confirm: 'yes' });
    expect(done).toMatchObject({ status: 303, location: `/app/rounds/${janesRound.round.roundId}` });
    expect((await getRound(deps.db, agencyId, janesRound.round.roundId)).status).toBe('cancelled');
    // An admin cancels any.
    expect((await post(sessions.admin, `/app/rounds/${omarsRound.round.roundId}/cancel`, { confirm: 'yes' })).status).toBe(303);
    expect((await getRound(deps.db, agencyId, omarsRound.round.roundId)).status).toBe('cancelled');
  });

  it('creates a new campaign inline with the API’s validation, the error next to its field', async () => {
    const { deps, agencyId, sessions, post, csv, jane, u } = await setup();
    const file = () => csv(`Email\nq-${u}@x.example\n`);
    const missing = await post(sessions.admin, '/app/rounds/new', { campaignId: 'new', campaignName: '', proId: '', file: file() });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('The name must not be empty.');
    expect(missing.text).toContain('Choose the pro whose campaign it is.');
    const key = `form-${u}`; // the key the step's form carries
    const made = await post(sessions.admin, '/app/rounds/new', { key, campaignId: 'new', campaignName: 'Autumn Tour', proId: jane.proId, file: file() });
    expect(made.status).toBe(200);
    expect(made.text).toContain('Campaign Autumn Tour: 1 contact read.');
    // The same form sent again (Back, then Next) finds the campaign it made.
    const again = await post(sessions.admin, '/app/rounds/new', { key, campaignId: 'new', campaignName: 'Autumn Tour', proId: jane.proId, file: file() });
    expect(again.status).toBe(200);
    const { listCampaigns } = await import('@rapport/core');
    expect((await listCampaigns(deps.db, agencyId, { proId: jane.proId }, { limit: 10 })).items.map((c) => c.name)).toEqual(['Spring Launch', 'Autumn Tour']);
  });
  it('a deactivated pro: not offered, refused next to its field at step 1, and Send says why (409) and writes nothing', async () => {
    const { deps, agencyId, sessions, post, get, csv, omar, omars, u } = await setup();
    await deactivatePro(deps.db, agencyId, omar.proId, deps.now());
    const start = await get(sessions.admin, '/app/rounds/new');
    expect(start.text).not.toContain('Omar’s Fair');
    expect(start.text).not.toContain('Omar Ali');
    const list = `Email\nq-${u}@x.example\n`;
    const existing = await post(sessions.admin, '/app/rounds/new', { campaignId: omars.campaignId, file: csv(list) });
    expect(existing.status).toBe(400);
    expect(existing.text).toContain('Campaign A new campaign (name it below) Spring Launch The campaign’s pro is deactivated: reactivate them to send a round.');
    const fresh = await post(sessions.admin, '/app/rounds/new', { campaignId: 'new', campaignName: 'Winter', proId: omar.proId, file: csv(list) });
    expect(fresh.status).toBe(400);
    expect(fresh.text).toContain('The new campaign’s pro Only for a new campaign. Choose a pro Jane Doe This pro is deactivated: reactivate them to send a round.');
    // Deactivated between the preview and Send: the page says why.
    const send = await post(sessions.admin, '/app/rounds/new/send', { campaignId: omars.campaignId, list, col0: 'email', key: crypto.randomUUID() });
    expect(send.status).toBe(409);
    expect(send.text).toContain('The campaign’s pro is deactivated: reactivate them to send a round');
    expect((await listRounds(deps.db, agencyId, omars.campaignId, { limit: 10 })).items).toEqual([]);
    expect((await listCampaigns(deps.db, agencyId, { proId: omar.proId }, { limit: 10 })).items.map((c) => c.name)).toEqual(['Omar’s Fair']);
  });
});
