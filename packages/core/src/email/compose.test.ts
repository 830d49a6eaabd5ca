import { simpleParser, type AddressObject } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeMime, EmailCompositionError, type OutgoingEmail } from './compose';
import { listUnsubscribeHeaders } from './invitation';

const INJECTION = '\r\nBcc: evil@example.com';

const base: OutgoingEmail = {
  from: { name: 'Rapport', address: 'surveys@rapport.local' },
  to: { name: 'Alice Adams', address: 'alice@example.com' },
  subject: 'How responsive was Jane Doe on the Spring Launch?',
  text: 'plain body',
  html: '<p>html body</p>',
};

/** The header block of a raw message, unfolded: one entry per header field. */
function headerLines(raw: Buffer): string[] {
  const head = raw.toString('latin1').split('\r\n\r\n')[0] ?? '';
  return head.replace(/\r\n[ \t]/g, ' ').split('\r\n');
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value);

describe('composeMime', () => {
  it('builds multipart/alternative with both parts, the addresses, the subject and extra headers', async () => {
    const raw = await composeMime({
      ...base,
      replyTo: { name: 'Jane Doe', address: 'jane@acme.example' },
      headers: listUnsubscribeHeaders('https://rapport.example/u/tok'),
    });
    const lines = headerLines(raw);
    expect(lines).toContain('List-Unsubscribe: <https://rapport.example/u/tok>');
    expect(lines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(lines).toContain('From: Rapport <surveys@rapport.local>');
    expect(lines).toContain('To: Alice Adams <alice@example.com>');
    expect(lines).toContain('Reply-To: Jane Doe <jane@acme.example>');
    expect(lines).toContain('Subject: How responsive was Jane Doe on the Spring Launch?');
    expect(lines).toContain('MIME-Version: 1.0');
    expect(lines.some((l) => l.startsWith('Content-Type: multipart/alternative;'))).toBe(true);

    const parsed = await simpleParser(raw);
    expect(parsed.text).toBe('plain body');
    expect(parsed.html).toBe('<p>html body</p>');
  });

  it('turns CR/LF in names, the subject and header values into spaces: no Bcc header, one recipient', async () => {
    const raw = await composeMime({
      from: { name: `Rapport${INJECTION}`, address: 'surveys@rapport.local' },
      to: { name: `Alice${INJECTION}`, address: 'alice@example.com' },
      replyTo: { name: `Jane${INJECTION}`, address: 'jane@acme.example' },
      subject: `Hello${INJECTION}`,
      text: 'x',
      html: '<p>x</p>',
      headers: { 'X-Campaign': `Spring${INJECTION}` },
    });
    const lines = headerLines(raw);
    expect(lines.filter((l) => /^bcc:/i.test(l))).toEqual([]);
    expect(lines.filter((l) => /^subject:/i.test(l))).toEqual(['Subject: Hello Bcc: evil@example.com']);
    expect(lines).toContain('X-Campaign: Spring Bcc: evil@example.com');
    expect(raw.toString('latin1')).not.toMatch(/\r\nBcc:/i);

    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('Hello Bcc: evil@example.com');
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.cc).toBeUndefined();
    // Display names also lose any word holding an address (see `displayName`).
    expect(addresses(parsed.to)).toEqual([{ name: 'Alice Bcc:', address: 'alice@example.com' }]);
    expect(addresses(parsed.from)).toEqual([{ name: 'Rapport Bcc:', address: 'surveys@rapport.local' }]);
  });

  it('gives no display name the look of an address, a domain, or bidi and zero-width tricks', async () => {
    const raw = await composeMime({
      ...base,
      from: { name: 'ceo@bank.example via Rapport', address: 'surveys@rapport.local' },
      to: { name: 'Alice \u202eevil\u202c Adams', address: 'alice@example.com' },
      replyTo: { name: 'support.bank\u200b.example', address: 'jane@acme.example' },
      subject: 'Hello \u202eJane\u2066',
    });
    const parsed = await simpleParser(raw);
    expect(addresses(parsed.from)).toEqual([{ name: 'via Rapport', address: 'surveys@rapport.local' }]);
    expect(addresses(parsed.to)).toEqual([{ name: 'Alice evil Adams', address: 'alice@example.com' }]);
    expect(addresses(parsed.replyTo)).toEqual([{ name: 'support. bank. example', address: 'jane@acme.example' }]);
    expect(parsed.subject).toBe('Hello Jane');
  });

  it('leaves no encoded-word for a reader to decode: a name or subject typed as =?…?= stays that text', async () => {
    // base64 of `ceo@bank.example` and of U+202E + `elpmaxe`: readers (mailparser here) decode an
    // encoded-word even inside a quoted display name, past every check made on the raw text.
    const raw = await composeMime({
      ...base,
      from: { name: '=?utf-8?B?Y2VvQGJhbmsuZXhhbXBsZQ==?= via Rapport', address: 'surveys@rapport.local' },
      to: { name: '=?utf-8?Q?ceo=40bank=2Eexample?=', address: 'alice@example.com' },
      subject: 'How responsive was =?utf-8?B?4oCuZWxwbWF4ZQ==?= on the launch?',
    });
    const parsed = await simpleParser(raw);
    expect(addresses(parsed.from)).toEqual([{ name: '= ?utf-8?B?Y2VvQGJhbmsuZXhhbXBsZQ== ?= via Rapport', address: 'surveys@rapport.local' }]);
    expect(addresses(parsed.to)).toEqual([{ name: '= ?utf-8?Q?ceo=40bank=2Eexample?=', address: 'alice@example.com' }]);
    expect(parsed.subject).toBe('How responsive was = ?utf-8?B?4oCuZWxwbWF4ZQ== ?= on the launch?');
  });

  it('RFC 2047-encodes non-ASCII names and subjects, leaving the header block ASCII', async () => {
    const raw = await composeMime({
      ...base,
      to: { name: 'José Müller', address: 'jose@example.com' },
      replyTo: { name: '李雷', address: 'li@example.com' },
      subject: 'Wie reaktionsschnell war Zoë? 李雷',
    });
    const head = headerLines(raw).join('\n');
    expect(head).toMatch(/^[\x20-\x7e\n]*$/);
    expect(head).toMatch(/=\?UTF-8\?[BQ]\?/);
    const parsed = await simpleParser(raw);
    expect(addresses(parsed.to)).toEqual([{ name: 'José Müller', address: 'jose@example.com' }]);
    expect(addresses(parsed.replyTo)).toEqual([{ name: '李雷', address: 'li@example.com' }]);
    expect(parsed.subject).toBe('Wie reaktionsschnell war Zoë? 李雷');
  });

  it('refuses addresses that are not plain addr-specs', async () => {
    for (const address of ['alice@example.com\r\nBcc: evil@example.com', 'a@b.com, evil@example.com', 'Alice <a@b.com>', 'no-at-sign', 'a@b']) {
      await expect(composeMime({ ...base, to: { address } })).rejects.toBeInstanceOf(EmailCompositionError);
    }
  });

  it('refuses malformed header names and headers the composer owns', async () => {
    await expect(composeMime({ ...base, headers: { 'X-Bad\r\nBcc': 'x' } })).rejects.toThrow(EmailCompositionError);
    await expect(composeMime({ ...base, headers: { 'X:Colon': 'x' } })).rejects.toThrow(EmailCompositionError);
    await expect(composeMime({ ...base, headers: { bcc: 'evil@example.com' } })).rejects.toThrow('bcc is set by the composer');
    await expect(composeMime({ ...base, headers: { Subject: 'other' } })).rejects.toThrow(EmailCompositionError);
  });
});
