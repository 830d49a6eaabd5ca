/* A CSV reader for tests: written apart from the writer under test, so the two check each other. */

/**
 * A strict RFC 4180 reader, apart from the writer: records end in CRLF, quoted fields double their
 * quotes, and a quote, bare CR or LF in an unquoted field is an error.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: string[] = [];
    for (;;) {
      let field = '';
      if (text.charAt(i) === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new Error('unterminated quoted field');
          if (text.charAt(i) !== '"') field += text.charAt(i++);
          else if (text.charAt(i + 1) === '"') {
            field += '"';
            i += 2;
          } else break;
        }
        i++;
      } else {
        while (i < text.length && text.charAt(i) !== ',' && text.charAt(i) !== '\r') {
          if (text.charAt(i) === '"' || text.charAt(i) === '\n') throw new Error(`bare ${JSON.stringify(text.charAt(i))} at ${i}`);
          field += text.charAt(i++);
        }
      }
      record.push(field);
      if (text.charAt(i) === ',') i++;
      else if (text.startsWith('\r\n', i)) {
        i += 2;
        break;
      } else throw new Error(`expected , or CRLF at ${i}`);
    }
    records.push(record);
  }
  return records;
}
