/**
 * Small text helpers for email: header-safe single lines and HTML escaping. Core knows nothing of
 * HTTP, so it does not borrow hono's escaper; five replacements do not justify a dependency.
 */

/**
 * C0 and C1 control characters (CR, LF and TAB included) and the Unicode line and paragraph
 * separators: anything that could end a header line or hide inside one.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * Bidi controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069), the LRM and
 * RLM marks and the Arabic letter mark. A U+202E in a name would otherwise reverse what follows it.
 */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/**
 * Drops bidi controls, replaces every run of control characters with one space, collapses
 * whitespace and trims: safe in a header, and unable to reorder the text around it.
 */
export function oneLine(value: string): string {
  return value.replace(BIDI, '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Header text typed as an RFC 2047 encoded-word (`=?utf-8?B?…?=`) would be decoded by the reader
 * (even inside a quoted display name) into whatever it encodes, past every check made here: an
 * address, a U+202E. A space after each `=` that a `?` follows leaves none to decode.
 */
export const withoutEncodedWords = (value: string): string => value.replace(/=\?/g, '= ?');

/** The text of a header (the subject, extra header values): `oneLine`, with no encoded-word in it. */
export const headerText = (value: string): string => withoutEncodedWords(oneLine(value));

const FSI = '\u2068';
const PDI = '\u2069';

/**
 * A user-provided value (a name, a campaign, a commitment, a comment) for the body of an email:
 * one line (no bidi control left), marked FSI…PDI as one bidi-isolated run. A sentence is built
 * once with the marks; `escapeHtml` turns each pair into an isolating span for the HTML part, and
 * `plainText` drops them for the text part (whose readers support isolates unevenly: some show the
 * marks as boxes; without any override left, the name cannot reorder the sentence around it, an
 * RTL name at worst pulls its adjacent punctuation). Never for headers: they take `oneLine`.
 */
export function isolate(value: string): string {
  const line = oneLine(value);
  return line ? `${FSI}${line}${PDI}` : '';
}

/** The text part of a sentence built with `isolate`: the marks dropped. */
export function plainText(value: string): string {
  return value.replace(/[\u2068\u2069]/g, '');
}

/**
 * Caps a string at `max` characters (code points, so a surrogate pair is never cut in half),
 * ending a cut string with an ellipsis that counts toward the cap.
 */
export function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  return `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const ISOLATED = `<span dir="auto" style="unicode-bidi:isolate;">`;

/**
 * Escapes text for HTML element content and for quoted attribute values. The FSI…PDI pairs of
 * `isolate` become `<span dir="auto">` (which HTML isolates) styled `unicode-bidi:isolate` for
 * clients that drop the attribute's meaning; a mark without its pair is dropped. (Attribute values
 * are URLs, which refuse the marks.)
 */
export function escapeHtml(value: string): string {
  const escaped = value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
  if (!escaped.includes(FSI) && !escaped.includes(PDI)) return escaped;
  let open = 0;
  let out = '';
  for (const part of escaped.split(/([\u2068\u2069])/)) {
    if (part === FSI) {
      open++;
      out += ISOLATED;
    } else if (part === PDI) {
      if (open === 0) continue;
      open--;
      out += '</span>';
    } else out += part;
  }
  return out + '</span>'.repeat(open);
}

/**
 * A dot, NFKC-folded (`．` `․` are `.`, `｡` is `。`), or a character NFKC keeps that Unicode's
 * confusables list as one (Syriac and Vai stops, Kharoshthi dot, the Lisu tone letter `ꓸ`, the
 * augmentation dot), followed by a letter, digit or mark: `bankꓸexample` shows as `bank.example`.
 */
const DOTS = /([.\u3002\u0701\u0702\ua60e\ua4f8\u{10a50}\u{1d16d}])(?=[\p{L}\p{N}\p{M}])/gu;
/** The Arabic-Indic zeros look like dots too, but are digits: only before a letter or mark, so `٢٠٢٤` stays whole. */
const ZERO_DOTS = /([\u0660\u06f0])(?=[\p{L}\p{M}])/gu;

/**
 * The display name of a mailbox, unable to pass for an address: NFKC-folded (so `＠` is `@`),
 * without control, format (bidi, zero-width) or private-use characters, Hangul fillers or Braille blanks, without `<>"\`()[]`,
 * without any word holding an `@` (an address, whole), and with a space after every dot (or
 * look-alike of one, see `DOTS`) that a letter or digit follows (`bank.example` becomes `bank. example`, no longer a domain; `J.R.R.`
 * becomes `J. R. R.`), with no encoded-word (`=?` becomes `= ?`). At most `max` characters; empty when no letter or digit is left. Idempotent.
 */
export function displayName(value: string, max = 100): string {
  const words = value
    .replace(/[\p{Cf}]/gu, '')
    .normalize('NFKC')
    // Hangul fillers (letters) and the Braille blank (a symbol) show as nothing: as spaces, a name of
    // them is no name, and a run of them cannot push " via Rapport" out of sight.
    .replace(/[\p{Cc}\p{Co}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800<>"\\`()[\]]/gu, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !word.includes('@'));
  const name = Array.from(
    withoutEncodedWords(words.join(' '))
      .replace(DOTS, '$1 ')
      .replace(ZERO_DOTS, '$1 '),
  )
    .slice(0, max)
    .join('')
    .trim();
  return /[\p{L}\p{N}]/u.test(name) ? name : '';
}

/**
 * The From display name of Rapport's emails: the first of `names` (the pro's, then the agency's)
 * that `displayName` leaves something of, "via Rapport"; plain "Rapport" when none does.
 */
export function senderName(...names: (string | null | undefined)[]): string {
  for (const name of names) {
    // 64 leaves the whole, suffixed name within the composer's own `displayName` cap.
    const clean = displayName(name ?? '', 64);
    if (clean) return `${clean} via Rapport`;
  }
  return 'Rapport';
}
