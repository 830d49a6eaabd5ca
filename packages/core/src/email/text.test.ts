import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayName, escapeHtml, headerText, isolate, oneLine, senderName } from './text';

/** Characters an attacker would reach for: address and domain syntax and their look-alikes, controls, bidi and zero-width marks. */
const HOSTILE = [
  '@', '＠', '﹫', '.', '。', '．', '｡', '․', '٠', '۰', '܁', '܂', '꘎', 'ꓸ', '𐩐', '𝅭', '<', '>', '"', '“', "'", '\\', '`', '(', ')', '[', ']', ':', ',', ';', '/',
  '\r', '\n', '\t', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b',
  '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c',
  '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u180e', '\u2028', '\u2029', '\u00a0', '\u3000',
  '\u0301', '\ue000', '\u3164', '\u115f', '\u2800', 'a', 'Z', '7', 'é', 'ß', 'ا', 'ש', '李', '😀', ' ', '-', '_', '=', '?', '=?',
];

const hostileName: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.constantFrom(...HOSTILE), { maxLength: 40 }).map((chars) => chars.join('')),
  fc.emailAddress(),
  fc.domain(),
  fc.webUrl(),
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.emailAddress(), fc.array(fc.constantFrom(...HOSTILE), { maxLength: 6 }))
    .map(([name, email, marks]) => `${name}${marks.join('')}<${email}>${marks.reverse().join('')}`),
  fc.string({ unit: 'binary', maxLength: 60 }),
  // An RFC 2047 encoded-word, which a reader would decode into an address or a bidi override.
  fc.tuple(fc.constantFrom('utf-8', 'UTF-8', 'iso-8859-1'), fc.oneof(fc.emailAddress(), fc.string({ unit: 'binary', maxLength: 20 })))
    .map(([charset, text]) => `=?${charset}?B?${Buffer.from(text).toString('base64')}?=`),
);

/**
 * A letter or digit, a dot (any script's, NFKC-folded, or a character Unicode lists as confusable
 * with one: `bankꓸexample` shows as `bank.example`), then a letter, digit or mark.
 */
const DOMAIN_LIKE = /[\p{L}\p{N}\p{M}][.\u3002\u0701\u0702\ua60e\ua4f8\u{10a50}\u{1d16d}][\p{L}\p{N}\p{M}]|[\p{L}\p{N}\p{M}][\u0660\u06f0][\p{L}\p{M}]/u;
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}@<>"`\\]/u;

describe('the From display name', () => {
  it('never holds an @, a control, bidi or zero-width character, or a domain-like token, and is never empty (property)', () => {
    fc.assert(
      fc.property(hostileName, hostileName, (pro, agency) => {
        const name = senderName(pro, agency);
        const folded = name.normalize('NFKC');
        expect(name).not.toBe('');
        expect(folded).not.toMatch(FORBIDDEN);
        expect(folded).not.toMatch(DOMAIN_LIKE);
        expect(name).not.toContain('=?');
        expect(folded).not.toMatch(/[\u115f\u1160\u3164\uffa0\u2800]/);
        expect(name === 'Rapport' || name.endsWith(' via Rapport')).toBe(true);
        expect(displayName(name)).toBe(name);
      }),
      { numRuns: 3000 },
    );
  });

  it('is the cleaned pro name, else the agency name, else plain Rapport', () => {
    expect(senderName('Jane Doe', 'Acme PR')).toBe('Jane Doe via Rapport');
    expect(senderName('ceo@bank.example', 'Acme PR')).toBe('Acme PR via Rapport');
    expect(senderName('ceo＠bank.example', 'Acme PR')).toBe('Acme PR via Rapport');
    expect(senderName('Jane Doe <ceo@bank.example>', 'Acme PR')).toBe('Jane Doe via Rapport');
    expect(senderName('"ceo@bank.example" <x@y.example>', 'Acme PR')).toBe('Acme PR via Rapport');
    expect(senderName('support.bank.example', 'Acme PR')).toBe('support. bank. example via Rapport');
    expect(senderName('ba\u200bnk.exa\u202emple', 'Acme PR')).toBe('bank. example via Rapport');
    expect(senderName('J.R.R. Tolkien', 'Acme PR')).toBe('J. R. R. Tolkien via Rapport');
    // Look-alikes of the dot that NFKC keeps: a Lisu tone letter, Syriac and Vai stops, Arabic-Indic zeros.
    expect(senderName('paypalꓸcom', 'Acme PR')).toBe('paypalꓸ com via Rapport');
    expect(senderName('bank܂example꘎com', 'Acme PR')).toBe('bank܂ example꘎ com via Rapport');
    expect(senderName('bank٠example', 'Acme PR')).toBe('bank٠ example via Rapport');
    expect(senderName('٢٠٢٤', 'Acme PR')).toBe('٢٠٢٤ via Rapport');
    expect(senderName("Seán O'Brien", 'Acme PR')).toBe("Seán O'Brien via Rapport");
    expect(senderName('\u202e\u200b', '@@@')).toBe('Rapport');
    // Hangul fillers are letters that show as nothing: a name of them would be a blank sender.
    expect(senderName('\u3164\u3164', '\u115f\uffa0')).toBe('Rapport');
    expect(senderName('Jane\u3164\u1160Doe', 'Acme PR')).toBe('Jane Doe via Rapport');
    // Braille blanks are symbols that show as nothing: 50 of them pushed " via Rapport" out of sight.
    expect(senderName(`PayPal${'\u2800'.repeat(50)}`, 'Acme PR')).toBe('PayPal via Rapport');
    expect(senderName('', undefined)).toBe('Rapport');
    expect(senderName()).toBe('Rapport');
  });
});

describe('header and body text', () => {
  it('oneLine strips controls and bidi controls', () => {
    expect(oneLine('Jane\u202e Doe\r\nBcc: x\u2066\u200f')).toBe('Jane Doe Bcc: x');
  });

  it('headerText leaves no encoded-word, which a reader would decode past these checks', () => {
    expect(headerText('Hi =?utf-8?B?4oCu?= and =?x?Q?a?=\u202e')).toBe('Hi = ?utf-8?B?4oCu?= and = ?x?Q?a?=');
    expect(displayName('=?utf-8?B?Y2VvQGJhbmsuZXhhbXBsZQ==?=')).toBe('= ?utf-8?B?Y2VvQGJhbmsuZXhhbXBsZQ== ?=');
  });

  it('isolate wraps a cleaned value in FSI/PDI, and escapeHtml turns the pair into an isolating span', () => {
    const name = isolate('Jane \u202eeoD\u2069 <b>');
    expect(name).toBe('\u2068Jane eoD <b>\u2069');
    expect(escapeHtml(`Hi ${name},`)).toBe('Hi <span dir="auto" style="unicode-bidi:isolate;">Jane eoD &lt;b&gt;</span>,');
    expect(isolate('\u202e')).toBe('');
    // A stray mark never opens or closes markup on its own.
    expect(escapeHtml('a\u2069b\u2068c')).toBe('ab<span dir="auto" style="unicode-bidi:isolate;">c</span>');
  });
});
