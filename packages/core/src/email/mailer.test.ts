import {
  AccountSendingPausedException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESClient,
  SESServiceException,
} from '@aws-sdk/client-ses';
import { freePort, headerLines, recordingSesMailer, sesEmails, testConfig } from '@rapport/testing';
import { simpleParser, type AddressObject } from 'mailparser';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from './compose';
import { listUnsubscribeHeaders, renderInvitation } from './invitation';
import { createSesMailer, MailerError, toMailerError } from './mailer';

const INJECTION = '\r\nBcc: evil@example.com';
const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.com`;

/** A recording mailer's SES client (see `recordingSesMailer`): the raw messages put on the wire, headers included. */
function recordingClient() {
  const { mailer, sent } = recordingSesMailer();
  return { client: mailer.client, sent };
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value);

const clients: SESClient[] = [];
afterAll(() => clients.forEach((c) => c.destroy()));

describe('createSesMailer, through the local SES server', () => {
  it('sends the composed invitation: subject, from, reply-to, to, both parts and the RFC 8058 headers', async () => {
    const { client, sent } = recordingClient();
    clients.push(client);
    const mailer = createSesMailer({ region: 'us-east-1', client });
    const to = unique('alice');
    const rendered = renderInvitation({
      proName: 'Jane Doe',
      campaignName: 'Spring Launch',
      recipientName: 'Alice Adams',
      audience: 'client',
      attribution: 'anonymous',
      surveyUrl: 'http://localhost:3000/s/tok1',
      unsubscribeUrl: 'http://localhost:3000/u/tok1',
      kind: 'invitation',
    });
    const { messageId } = await mailer.send({
      from: { name: 'Rapport', address: testConfig().mailFrom },
      to: { name: 'Alice Adams', address: to },
      replyTo: { name: 'Jane Doe', address: 'jane@acme.example' },
      ...rendered,
      headers: listUnsubscribeHeaders('http://localhost:3000/u/tok1/one-click'),
    });

    const stored = await sesEmails({ to });
    expect(stored).toHaveLength(1);
    const email = stored[0]!;
    // The store keeps mailparser's rendering of each address list: names always in quotes.
    expect(email.messageId).toBe(messageId);
    expect(email.subject).toBe('How responsive was Jane Doe on the Spring Launch?');
    expect(email.from).toBe(`"Rapport" <${testConfig().mailFrom}>`);
    expect(email.replyTo).toEqual(['"Jane Doe" <jane@acme.example>']);
    expect(email.destination).toEqual({ to: [`"Alice Adams" <${to}>`], cc: [], bcc: [] });
    expect(email.body.text).toBe(rendered.text);
    expect(email.body.html).toBe(rendered.html);

    expect(sent).toHaveLength(1);
    const lines = headerLines(sent[0]!);
    expect(lines).toContain('List-Unsubscribe: <http://localhost:3000/u/tok1/one-click>');
    expect(lines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const parsed = await simpleParser(sent[0]!);
    expect(parsed.headerLines.filter((h) => h.key.startsWith('list-')).map((h) => h.line)).toEqual([
      'List-Unsubscribe: <http://localhost:3000/u/tok1/one-click>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);
    expect(parsed.subject).toBe(email.subject);
  });

  it('lets no name or subject inject a header: no Bcc, no extra recipient, a one-line subject', async () => {
    const { client, sent } = recordingClient();
    clients.push(client);
    const mailer = createSesMailer({ region: 'us-east-1', client });
    const to = unique('injected');
    const rendered = renderInvitation({
      proName: `Jane${INJECTION}`,
      campaignName: `Launch${INJECTION}`,
      recipientName: `Alice${INJECTION}`,
      audience: 'reporter',
      attribution: 'anonymous',
      surveyUrl: 'http://localhost:3000/s/tok2',
      unsubscribeUrl: 'http://localhost:3000/u/tok2',
      kind: 'reminder',
    });
    await mailer.send({
      from: { name: `Rapport${INJECTION}`, address: testConfig().mailFrom },
      to: { name: `Alice${INJECTION}`, address: to },
      replyTo: { name: `Jane${INJECTION}`, address: 'jane@acme.example' },
      ...rendered,
      subject: `${rendered.subject}${INJECTION}`,
    });

    const raw = sent[0]!;
    const lines = headerLines(raw);
    expect(lines.filter((l) => /^(bcc|cc):/i.test(l))).toEqual([]);
    expect(lines.filter((l) => /^subject:/i.test(l))).toEqual([
      'Subject: Reminder: How responsive was Jane Bcc: evil@example.com on the Launch Bcc: evil@example.com? Bcc: evil@example.com',
    ]);
    const parsed = await simpleParser(raw);
    expect(addresses(parsed.to)).toEqual([{ name: 'Alice Bcc:', address: to }]);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.cc).toBeUndefined();

    const [email, ...others] = await sesEmails({ to });
    expect(others).toEqual([]);
    expect(email!.subject).toBe(
      'Reminder: How responsive was Jane Bcc: evil@example.com on the Launch Bcc: evil@example.com? Bcc: evil@example.com',
    );
    expect(email!.destination).toEqual({ to: [`"Alice Bcc:" <${to}>`], cc: [], bcc: [] });
    // evil@example.com received nothing: no stored email lists it as an actual recipient address.
    const all = await sesEmails();
    const recipients = all.flatMap((e) => [...e.destination.to, ...e.destination.cc, ...e.destination.bcc]);
    expect(recipients.filter((r) => r === 'evil@example.com' || r.endsWith('<evil@example.com>'))).toEqual([]);
  });

  it('keeps unicode names and subjects intact', async () => {
    const { client } = recordingClient();
    clients.push(client);
    const mailer = createSesMailer({ region: 'us-east-1', client });
    const to = unique('jose');
    const rendered = renderInvitation({
      proName: '李雷',
      campaignName: 'Lançamento de Primavera',
      recipientName: 'José Müller',
      audience: 'colleague',
      attribution: 'named',
      surveyUrl: 'http://localhost:3000/s/tok3',
      unsubscribeUrl: 'http://localhost:3000/u/tok3',
      kind: 'invitation',
      commitment: 'Réponse sous 24 h — promis',
    });
    await mailer.send({
      from: { name: '李雷 via Rapport', address: testConfig().mailFrom },
      to: { name: 'José Müller', address: to },
      replyTo: { name: '李雷', address: 'li@acme.example' },
      ...rendered,
    });

    const [email] = await sesEmails({ to });
    expect(email!.subject).toBe('How responsive was 李雷 on the Lançamento de Primavera?');
    expect(email!.from).toBe(`"李雷 via Rapport" <${testConfig().mailFrom}>`);
    expect(email!.replyTo).toEqual(['"李雷" <li@acme.example>']);
    expect(email!.destination.to).toEqual([`"José Müller" <${to}>`]);
    expect(email!.body.text).toBe(rendered.text);
    expect(email!.body.text).toContain('Hi José,');
    expect(email!.body.html).toContain('“<span dir="auto" style="unicode-bidi:isolate;">Réponse sous 24 h — promis</span>”');
  });

  it('builds its own client from region and endpoint (fixed local credentials)', async () => {
    const mailer = createSesMailer({ region: 'us-east-1', endpoint: testConfig().sesEndpoint });
    clients.push(mailer.client);
    const to = unique('own-client');
    const { messageId } = await mailer.send({
      from: { address: testConfig().mailFrom },
      to: { address: to },
      subject: 'Hello',
      text: 'Hello',
      html: '<p>Hello</p>',
    });
    const [email] = await sesEmails({ to });
    expect(email!.messageId).toBe(messageId);
    expect(email!.destination.to).toEqual([to]);
  });

  it('reports a network failure as retryable (nothing listens on the port)', async () => {
    const port = await freePort();
    const client = new SESClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    clients.push(client);
    const error = await createSesMailer({ region: 'us-east-1', client })
      .send({ from: { address: 'a@rapport.local' }, to: { address: unique('down') }, subject: 's', text: 't', html: 'h' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', retryable: true, notAccepted: true });
  });

  it('reports a message that cannot be composed as not retryable, without calling SES', async () => {
    const { client, sent } = recordingClient();
    clients.push(client);
    const error = await createSesMailer({ region: 'us-east-1', client })
      .send({ from: { address: 'a@rapport.local' }, to: { address: 'x@example.com, evil@example.com' }, subject: 's', text: 't', html: 'h' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MailerError', code: 'InvalidMessage', retryable: false });
    expect(sent).toEqual([]);
  });
});

describe('MailerError classification', () => {
  const meta = (httpStatusCode?: number) => ({ $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });
  const sesError = (name: string, status: number, message = name) =>
    new SESServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, ...meta(status) });

  it('treats throttling, 429 and 5xx as retryable, SES rejections and other 4xx as final (constructed SDK exceptions: the local SES server cannot produce these)', () => {
    // The last column: SES certainly did not take the message (so sending again cannot double it).
    const cases: [unknown, string, boolean, boolean][] = [
      [sesError('Throttling', 400, 'Maximum sending rate exceeded.'), 'Throttling', true, true],
      [sesError('Throttling', 400, 'Daily message quota exceeded.'), 'DailyQuotaExceeded', true, true],
      [sesError('ThrottlingException', 400), 'ThrottlingException', true, true],
      [sesError('MaxSendingRateExceeded', 400), 'MaxSendingRateExceeded', true, true],
      [sesError('Unknown', 429), 'TooManyRequests', true, true],
      [sesError('InternalFailure', 500), 'InternalFailure', true, true],
      [sesError('ServiceUnavailable', 503), 'ServiceUnavailable', true, true],
      [new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }), 'MessageRejected', false, true],
      [new MailFromDomainNotVerifiedException({ message: 'not verified', ...meta(400) }), 'MailFromDomainNotVerifiedException', false, true],
      [new AccountSendingPausedException({ message: 'paused', ...meta(400) }), 'AccountSendingPausedException', false, true],
      [sesError('InvalidParameterValue', 400), 'InvalidParameterValue', false, true],
      [sesError('AccessDenied', 403), 'AccessDenied', false, true],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'ECONNRESET', true, false],
      [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'TimeoutError', true, false],
      [new TypeError('x is not a function'), 'TypeError', false, false],
    ];
    for (const [error, code, retryable, notAccepted] of cases) {
      const classified = toMailerError(error);
      expect({ code: classified.code, retryable: classified.retryable, notAccepted: classified.notAccepted }, code).toEqual({ code, retryable, notAccepted });
      expect(classified.cause).toBe(error);
    }
  });

  it('never calls an error certain to be unsent when the SDK made several attempts inside one call', () => {
    const afterRetries = Object.assign(new SESServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'down', $metadata: { httpStatusCode: 503, attempts: 2 } }));
    expect(toMailerError(afterRetries)).toMatchObject({ code: 'ServiceUnavailable', retryable: true, notAccepted: false });
    const refusedAfterReset = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', $metadata: { attempts: 3 } });
    expect(toMailerError(refusedAfterReset)).toMatchObject({ code: 'ECONNREFUSED', retryable: true, notAccepted: false });
  });

  it('throws the classified error from send (stubbed client: the local SES server cannot throttle)', async () => {
    const client = new SESClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    clients.push(client);
    client.middlewareStack.add(
      () => async () => {
        throw sesError('Throttling', 400, 'Maximum sending rate exceeded.');
      },
      { step: 'initialize', name: 'throttle' },
    );
    const error = await createSesMailer({ region: 'us-east-1', client })
      .send({ from: { address: 'a@rapport.local' }, to: { address: unique('throttled') }, subject: 's', text: 't', html: 'h' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerError);
    expect(error).toMatchObject({ code: 'Throttling', retryable: true, message: 'SES: Throttling: Maximum sending rate exceeded.' });
  });
});
