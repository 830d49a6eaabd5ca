import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCsv } from '@rapport/testing';
import { csvCell, csvLine, csvRows, toCsvStream } from './csv';

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function readBytes(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('CSV cells', () => {
  it('quotes fields with a quote, comma, CR or LF, doubling the quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line 1\nline 2')).toBe('"line 1\nline 2"');
    expect(csvCell('line 1\r\nline 2')).toBe('"line 1\r\nline 2"');
    expect(csvCell('"')).toBe('""""');
    expect(csvCell('')).toBe('');
  });

  it('writes empties, numbers, booleans and dates plainly', () => {
    expect(csvLine([null, undefined, 4.5, -2, 0, 10n, true, false, new Date(Date.UTC(2025, 2, 1, 9, 30))])).toBe(
      ',,4.5,-2,0,10,true,false,2025-03-01T09:30:00.000Z\r\n',
    );
  });

  it('refuses values that have no CSV form', () => {
    expect(() => csvCell({ mean: 4 })).toThrow(TypeError);
    expect(() => csvCell([1, 2])).toThrow(TypeError);
  });

  it('neutralises formulas in strings but leaves typed negative numbers alone', () => {
    expect(csvCell('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\t=1')).toBe("'\t'=1");
    expect(csvCell('\r=1')).toBe(`"'\r'=1"`); // neutralised, then quoted for the CR
    expect(csvCell('=HYPERLINK("http://x.example","click")')).toBe(`"'=HYPERLINK(""http://x.example"",""click"")"`);
    expect(csvCell('-5')).toBe("'-5"); // a string, so treated as text
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(-0.25)).toBe('-0.25');
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell("'quoted'")).toBe("'quoted'");
  });

  it('starts no formula in a spreadsheet that splits on ; or tab, as Excel does in much of Europe (property)', () => {
    /** A quote-aware split of one record on `delimiter`, as a spreadsheet reads it. */
    const cellsOf = (line: string, delimiter: string) => {
      const cells: string[] = [];
      let cell = '';
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i]!;
        if (quoted) {
          if (ch === '"' && line[i + 1] === '"') (cell += '"'), i++;
          else if (ch === '"') quoted = false;
          else cell += ch;
        } else if (ch === '"' && cell === '') quoted = true;
        else if (ch === delimiter) cells.push(cell), (cell = '');
        else cell += ch;
      }
      return [...cells, cell];
    };
    expect(csvLine(['ok;=1+1;', 'x\t@SUM(A1)', 'a;"-2', 'fine; -ish'])).toBe(`ok;'=1+1;,x\t'@SUM(A1),"a;""'-2",fine; -ish\r\n`);
    const text = fc.string({ unit: fc.constantFrom(';', '\t', ',', '=', '+', '-', '@', 'a', ' ', '"', 'H'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), fc.constantFrom(',', ';', '\t'), (cells, delimiter) => {
        const line = csvLine(cells).slice(0, -2);
        for (const cell of cellsOf(line, delimiter)) expect(cell, JSON.stringify(line)).not.toMatch(/^[=+\-@]/);
      }),
    );
  });

  it('passes unicode through untouched: emoji, accents, right-to-left', () => {
    const cells = ['👩🏽‍💻 great', 'Zoë Ångström', 'שלום עולם', 'مرحبا, بك'];
    expect(csvLine(cells)).toBe('👩🏽‍💻 great,Zoë Ångström,שלום עולם,"مرحبا, بك"\r\n');
    expect(parseCsv(csvLine(cells))).toEqual([cells]);
  });
});

describe('CSV streams', () => {
  it('writes the header and rows as exact CRLF records', async () => {
    const rows = [
      ['Jane Doe', 'reporter', 12, 4.25],
      ['Ann "The Fixer" Lee', 'client', 3, null],
      ['multi\nline', 'colleague', 0, -1],
    ];
    expect((await collect(csvRows(['pro', 'audience', 'n', 'mean'], rows))).join('')).toBe(
      'pro,audience,n,mean\r\n' + 'Jane Doe,reporter,12,4.25\r\n' + '"Ann ""The Fixer"" Lee",client,3,\r\n' + '"multi\nline",colleague,0,-1\r\n',
    );
  });

  it('starts with a BOM only when asked', async () => {
    const bytes = async (bom: boolean) => new Uint8Array(await new Response(toCsvStream(csvRows(['a'], [['é']], { bom }))).arrayBuffer());
    // ignoreBOM keeps the mark in the decoded text instead of swallowing it.
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    expect(decoder.decode(await bytes(false))).toBe('a\r\né\r\n');
    expect(decoder.decode(await bytes(true))).toBe('\uFEFFa\r\né\r\n');
  });

  it('refuses a row that does not match the header', async () => {
    await expect(collect(csvRows(['a', 'b'], [['1', '2'], ['3']]))).rejects.toThrow('CSV record 3 has 1 cells, the header 2');
  });

  it('round-trips any text through a strict reader, formulas neutralised (property)', () => {
    const special = fc.constantFrom('"', ',', ';', '\r', '\n', '\r\n', '=', '+', '-', '@', '\t', "'", ' ');
    const text = fc.string({ unit: fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 });
    const table = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.tuple(fc.array(text, { minLength: width, maxLength: width }), fc.array(fc.array(text, { minLength: width, maxLength: width }), { maxLength: 6 })),
    );
    const neutralised = (s: string) => {
      const inner = s.replace(/([;\t\r\n]"*)([=+\-@])/g, "$1'$2");
      return /^[=+\-@\t\r]/.test(inner) ? `'${inner}` : inner;
    };
    return fc.assert(
      fc.asyncProperty(table, async ([header, rows]) => {
        const text = await readBytes(toCsvStream(csvRows(header, rows)));
        expect(parseCsv(text)).toEqual([header, ...rows].map((r) => r.map(neutralised)));
      }),
    );
  });

  it('streams 20,000 rows from an async source, pulling each row only as it is read', async () => {
    let produced = 0;
    let finished = false;
    async function* source() {
      try {
        for (let i = 1; i <= 20_000; i++) {
          produced++;
          yield [i, `row ${i}`, i % 2 === 0];
        }
      } finally {
        finished = true;
      }
    }
    const reader = toCsvStream(csvRows(['i', 'label', 'even'], source())).getReader();
    const decoder = new TextDecoder();
    let records = 0;
    let last = '';
    let maxAhead = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      records++;
      last = decoder.decode(value);
      // Rows read so far = records − 1 (the header); the source may run at most a row or two ahead.
      maxAhead = Math.max(maxAhead, produced - (records - 1));
    }
    expect(records).toBe(20_001);
    expect(last).toBe('20000,row 20000,true\r\n');
    expect(maxAhead).toBeLessThanOrEqual(2);
    expect(finished).toBe(true);
  });

  it('closes the source when the client goes away', async () => {
    let closed = false;
    async function* endless() {
      try {
        for (let i = 0; ; i++) yield [i];
      } finally {
        closed = true;
      }
    }
    const reader = toCsvStream(csvRows(['i'], endless())).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel('client disconnected');
    expect(closed).toBe(true);
  });
});
