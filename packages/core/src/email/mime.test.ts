import { simpleParser } from 'mailparser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodedWords, headerField, mailbox, quotedPrintable, unstructured } from './mime';

describe('mime', () => {
  it('encodes non-ASCII text as encoded-words of at most 75 characters, cut between characters', () => {
    const text = 'Zoë 李雷 '.repeat(12) + '😀';
    const words = encodedWords(text).split(' ');
    expect(words.every((w) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w) && w.length <= 75)).toBe(true);
    // Each word decodes to whole characters on its own (no replacement character).
    const parts = words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8'));
    expect(parts.join('')).toBe(text);
    expect(parts.some((p) => p.includes('\ufffd'))).toBe(false);
  });

  it('leaves ASCII header text as it is', () => {
    expect(unstructured('List-Unsubscribe=One-Click')).toBe('List-Unsubscribe=One-Click');
    expect(unstructured('Zoë')).toBe('=?UTF-8?B?Wm/Dqw==?=');
  });

  it('writes a display name bare, quoted or encoded', () => {
    expect(mailbox('', 'a@b.example')).toBe('a@b.example');
    expect(mailbox('Alice Adams', 'a@b.example')).toBe('Alice Adams <a@b.example>');
    expect(mailbox('J. R. "Bob" Smith\\', 'a@b.example')).toBe('"J. R. \\"Bob\\" Smith\\\\" <a@b.example>');
    expect(mailbox('José', 'a@b.example')).toBe('=?UTF-8?B?Sm9zw6k=?= <a@b.example>');
  });

  it('folds a header before a space past 76 characters, and never splits a word', () => {
    const url = `<https://rapport.example/u/${'x'.repeat(90)}>`;
    expect(headerField('List-Unsubscribe', url)).toBe(`List-Unsubscribe: ${url}`);
    const folded = headerField('Subject', 'word '.repeat(30).trim());
    expect(folded.split('\r\n').every((l) => l.length <= 76)).toBe(true);
    expect(folded.replace(/\r\n /g, ' ')).toBe(`Subject: ${'word '.repeat(30).trim()}`);
  });

  it('writes quoted-printable lines of at most 76 characters that decode to the text, CRLF line ends', async () => {
    const text = `Hallo José = 1,\n\n${'a'.repeat(80)}é${'b'.repeat(70)}\ntrailing space \nand tab\t\r\nend`;
    const qp = quotedPrintable(text);
    expect(qp.split('\r\n').every((l) => l.length <= 76 && /^[\x20-\x7e]*$/.test(l))).toBe(true);
    expect(qp).toContain('Hallo Jos=C3=A9 =3D 1,\r\n\r\n');
    expect(qp).toContain('trailing space=20\r\nand tab=09\r\nend');
    const parsed = await simpleParser(Buffer.from(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp}`));
    expect(parsed.text).toBe(text.replace(/\r\n/g, '\n'));
  });
});

/** Quoted-printable decoded by hand: soft breaks dropped, `=XX` back to its byte, the rest as is. */
const decodeQp = (qp: string) => {
  const bytes: number[] = [];
  const body = qp.replace(/=\r\n/g, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '=') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(body.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
};

describe('quoted-printable (property)', () => {
  it('for any text: lines of at most 76 printable ASCII characters or tabs, no line ending in a space or tab, literal where it may be, decoding to the text', () => {
    const pieces = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom(' ', '\t', '=', '\n', '\r\n', 'é', '😀', 'a'.repeat(74), 'b'.repeat(76)));
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }).map((parts) => parts.join('').replace(/\r(?!\n)/g, '')), (text) => {
        const qp = quotedPrintable(text);
        const lines = qp.split('\r\n');
        expect(lines.every((l) => l.length <= 76 && /^[\t\x20-\x7e]*$/.test(l) && !/[ \t]$/.test(l))).toBe(true);
        // Soft-broken lines are exactly 76 wide but for an escape that would not fit.
        expect(lines.every((l) => !l.endsWith('=') || l.length >= 74)).toBe(true);
        expect(decodeQp(qp)).toBe(text.replace(/\r\n/g, '\n').split('\n').join('\r\n'));
        // Printable ASCII but `=` stays itself: the encoded text has as many of each as the text.
        const count = (s: string, c: string) => s.split(c).length - 1;
        for (const c of ['a', 'b', '<', '.']) expect(count(qp.replace(/=\r\n/g, ''), c)).toBe(count(text, c));
      }),
      { numRuns: 300 },
    );
  });
});
