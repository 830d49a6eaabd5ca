/**
 * The MIME encodings `composeMime` needs, and no more: RFC 2047 encoded-words for non-ASCII header
 * text, RFC 5322 display names and header folding, RFC 2045 quoted-printable bodies. Written here
 * rather than bundled: the composers on npm either carry a MIME-type table and a fetch client
 * (nodemailer: 138 KB of every bundle, 76 KB of it the table) or get encoded-words wrong (no
 * 75-character limit, every name encoded). Inputs reach these functions already one line, without
 * control characters (`headerText`, `displayName`); the parsing side is tested with mailparser.
 */

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** `atext` and spaces (RFC 5322 §3.2.3): a display name made of these needs no quotes. */
const PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*$/;

/** 36 bytes make 60-character encoded-words: with a header name before one, a line stays within the 76 characters RFC 2047 §2 allows. */
const WORD_BYTES = 36;

/**
 * `text` as UTF-8 base64 encoded-words separated by spaces (which readers drop between two
 * encoded-words), each cut on a character boundary.
 */
export function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char) > WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join(' ');
}

/** Unstructured header text (a subject, an extra header's value): as is when ASCII, else encoded-words. */
export const unstructured = (text: string): string => (ASCII_PRINTABLE.test(text) ? text : encodedWords(text));

/** A mailbox (RFC 5322 §3.4): `address`, or `name <address>` with the name bare, quoted or encoded. */
export function mailbox(name: string, address: string): string {
  if (!name) return address;
  const phrase = PHRASE.test(name) ? name : ASCII_PRINTABLE.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : encodedWords(name);
  return `${phrase} <${address}>`;
}

/**
 * A header field, folded (RFC 5322 §2.2.3) before a space wherever the line would pass 76
 * characters. A run without spaces longer than that (a long URL) stays whole: lines may reach 998.
 */
export function headerField(name: string, value: string): string {
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of value.split(' ')) {
    if (line.length + 1 + word.length > 76 && line.trim() !== `${name}:`) {
      lines.push(line);
      line = '';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines.join('\r\n');
}

/** How quoted-printable writes each byte when not as itself. */
const ESCAPED = Array.from({ length: 256 }, (_, byte) => `=${byte.toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * `text` (UTF-8) in quoted-printable, lines ending CRLF: each line of the text a line of the
 * output, split with soft line breaks (`=`) into lines of at most 76 characters. Printable ASCII
 * but `=` is written as itself, and a space or tab too unless it ends a line (no transport can
 * strip it then). Runs of bytes written as themselves are copied whole: every email's two bodies
 * pass through here.
 */
export function quotedPrintable(text: string): string {
  return text.split(/\r?\n/).map(encodeLine).join('\r\n');
}

function encodeLine(line: string): string {
  // One character per byte of the line's UTF-8, so a run of literal bytes is a slice.
  const bytes = Buffer.from(line).toString('latin1');
  const last = bytes.length - 1;
  const literalAt = (i: number) => {
    const byte = bytes.charCodeAt(i);
    return (byte >= 0x21 && byte <= 0x7e && byte !== 0x3d) || ((byte === 0x20 || byte === 0x09) && i < last);
  };
  let out = '';
  // Characters on the current output line; 75 and a soft break's `=` make 76.
  let width = 0;
  for (let i = 0; i < bytes.length; ) {
    let end = i;
    while (end < bytes.length && literalAt(end)) end++;
    while (i < end) {
      if (width === 75) {
        out += '=\r\n';
        width = 0;
      }
      const take = Math.min(75 - width, end - i);
      out += bytes.slice(i, i + take);
      width += take;
      i += take;
    }
    if (i < bytes.length) {
      if (width + 3 > 75) {
        out += '=\r\n';
        width = 0;
      }
      out += ESCAPED[bytes.charCodeAt(i)]!;
      width += 3;
      i++;
    }
  }
  return out;
}
