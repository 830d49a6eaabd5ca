/**
 * RFC 4180 CSV, streamed one record at a time, so an export of any size holds one row in memory.
 * Every record, the last included, ends in CRLF. Serve it as `text/csv; charset=utf-8; header=present`:
 *
 *   return c.body(toCsvStream(csvRows(header, rows)), 200, { 'Content-Type': 'text/csv; charset=utf-8; header=present' });
 *
 * Cells: null/undefined → empty; numbers, bigints and booleans as JavaScript prints them; Dates as
 * ISO 8601 UTC; strings as they are, except that one starting with =, +, -, @, TAB or CR gets a
 * leading ' so a spreadsheet shows it as text instead of running it as a formula (OWASP "CSV
 * injection"; respondents' comments are attacker-controlled), and so does one after a semicolon,
 * a tab or a line break inside the string (a cell start where Excel splits on `;`). A negative number passed as a number
 * stays a number — pass numbers typed, not as strings. Anything else is a programming error.
 */

export interface CsvOptions {
  /**
   * Start with a UTF-8 byte order mark. Excel needs it to read UTF-8 (without it, accented names
   * and emoji come out garbled); most other tools take it for part of the first header name, so
   * it is off unless asked for.
   */
  bom?: boolean;
}

const FORMULA_START = /^[=+\-@\t\r]/;
/**
 * A formula character after a semicolon, a tab or a line break (past any quotes): Excel in much
 * of Europe opens a .csv split on `;`, its locale's list separator, quotes or not, so the text
 * after each `;` of a comment (`ok;=1+1;`) is a cell of its own there, and would run as a formula.
 */
const INNER_FORMULA = /([;\t\r\n]"*)([=+\-@])/g;
const NEEDS_QUOTES = /[",\r\n]/;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') {
    const inner = value.replace(INNER_FORMULA, "$1'$2");
    return FORMULA_START.test(inner) ? `'${inner}` : inner;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new TypeError(`a CSV cell cannot hold ${Object.prototype.toString.call(value)}`);
}

/** One cell, neutralised and quoted as needed. */
export function csvCell(value: unknown): string {
  const text = cellText(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record with its CRLF. */
export function csvLine(cells: readonly unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * The header and then each row, one record per chunk, pulled from `rows` only as the consumer
 * reads. A row whose width differs from the header's throws: misaligned columns would be read as
 * the wrong figures.
 */
export async function* csvRows(
  header: readonly string[],
  rows: AsyncIterable<readonly unknown[]> | Iterable<readonly unknown[]>,
  { bom = false }: CsvOptions = {},
): AsyncGenerator<string, void, undefined> {
  yield (bom ? '\uFEFF' : '') + csvLine(header);
  let line = 1;
  for await (const row of rows) {
    line++;
    if (row.length !== header.length) throw new RangeError(`CSV record ${line} has ${row.length} cells, the header ${header.length}`);
    yield csvLine(row);
  }
}

/**
 * The chunks as a UTF-8 byte stream for an HTTP body. Pull-based, so a slow client slows the
 * source down instead of buffering it; a client that goes away closes the source (its `finally`
 * runs, e.g. to stop paging through the table).
 */
export function toCsvStream(chunks: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}
