import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contactTypes, decodeMediaList, guessAudience, guessMapping, MediaListError, parseMediaList, recipientsOf } from './media-list';

const error = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof MediaListError) return e.message;
    throw e;
  }
  throw new Error('no error');
};

describe('media lists', () => {
  it('guesses the columns of Muck Rack, Cision, Prowly and spreadsheet exports', () => {
    expect(guessMapping(['First Name', 'Last Name', 'Email', 'Outlet', 'Title', 'Beats', 'Twitter'])).toEqual(['firstName', 'lastName', 'email', 'outlet', 'contactType', '', '']);
    expect(guessMapping(['Contact First Name', 'Contact Last Name', 'Email Address', 'Outlet Name', 'Job Title', 'Media Type'])).toEqual([
      'firstName',
      'lastName',
      'email',
      'outlet',
      'contactType',
      '',
    ]);
    expect(guessMapping(['First name', 'Last name', 'E-mail', 'Media outlet', 'Position', 'Tags'])).toEqual(['firstName', 'lastName', 'email', 'outlet', 'contactType', '']);
    expect(guessMapping(['Name', 'e-mail address', 'Publication', 'Type'])).toEqual(['fullName', 'email', 'outlet', 'contactType']);
    // The parts of a name win over a full name beside them; an unknown header is left out.
    expect(guessMapping(['Full Name', 'First Name', 'Last Name', 'Email', 'Newsroom'])).toEqual(['', 'firstName', 'lastName', 'email', '']);
  });

  it('reads BOM, CRLF, semicolons and tabs, and multi-line quoted values keep their row numbers', () => {
    const expected = { headers: ['Email', 'Name'], rows: [{ row: 2, cells: ['a@x.example', 'A, B'] }, { row: 3, cells: ['b@x.example', 'B'] }] };
    expect(parseMediaList('\uFEFFEmail,Name\r\na@x.example,"A, B"\r\nb@x.example,B\r\n')).toEqual(expected);
    expect(parseMediaList('Email;Name\na@x.example;A, B\n;\nb@x.example;B')).toEqual({ ...expected, rows: [expected.rows[0], { row: 4, cells: ['b@x.example', 'B'] }] });
    expect(parseMediaList('Email\tName\na@x.example\tA, B\nb@x.example\tB\n')).toEqual(expected);
    expect(parseMediaList('Email,Note\na@x.example,"two\nlines"\nb@x.example,x\n').rows.map((r) => r.row)).toEqual([2, 4]);
    expect(decodeMediaList(new TextEncoder().encode('\uFEFFEmail\nä@x.example'))).toBe('Email\nä@x.example');
  });

  it('reads a list alike whatever its line breaks (LF, CRLF, CR alone, or CRLF inside quoted values as a browser sends the list back), with the same row numbers', () => {
    const cell = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', ';', '@', '"', 'é') }), fc.constantFrom('two\nlines', 'three\n\nlines', ''));
    const quoted = (value: string) => `"${value.replaceAll('"', '""')}"`;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.emailAddress(), cell), { minLength: 1, maxLength: 8 }), fc.nat(2), (rows, blankLines) => {
        const lf = `${'\n'.repeat(blankLines)}Email,Note\n${rows.map(([email, note]) => `${email},${quoted(note)}`).join('\n')}\n`;
        const expected = parseMediaList(lf);
        expect(parseMediaList(lf.replaceAll('\n', '\r\n'))).toEqual(expected);
        expect(parseMediaList(lf.replaceAll('\n', '\r'))).toEqual(expected);
        // The row of a record is the line it starts on, as a spreadsheet counts them.
        const starts = [...lf.matchAll(/^[^\n",]*@[^\n",]*,/gm)].map((m) => lf.slice(0, m.index).split('\n').length);
        expect(expected.rows.map((r) => r.row)).toEqual(starts);
      }),
    );
    // A semicolon list under blank lines: its header line decides the separator, not the blank line.
    expect(parseMediaList('\r\n\r\nEmail;Name\r\na@x.example;Ann\r\n')).toEqual({ headers: ['Email', 'Name'], rows: [{ row: 4, cells: ['a@x.example', 'Ann'] }] });
    // The size counts the list, not the CRs a browser adds: 1 MB of LF text resent as CRLF still reads.
    const big = `Email,Note\n${Array.from({ length: 2000 }, (_, i) => `p${i}@x.example,${'n'.repeat(500)}`).join('\n')}\n`.slice(0, 1024 * 1024 - 1) + '\n';
    expect(parseMediaList(big.replaceAll('\n', '\r\n')).rows.length).toBe(parseMediaList(big).rows.length);
  });

  it('reads pasted addresses one a line, as mail programs copy them', () => {
    expect(parseMediaList('a@x.example\n\nAda <ada@x.example>\nb@x.example, Bea\n')).toEqual({
      headers: ['Email'],
      rows: [
        { row: 1, cells: ['a@x.example'] },
        { row: 3, cells: ['ada@x.example'] },
        { row: 4, cells: ['b@x.example'] },
      ],
    });
  });

  it('reads every address of a pasted line, as Outlook and Gmail copy a To: field (one line, ; or , between), none dropped', () => {
    expect(parseMediaList('"Smith, Ann" <ann@x.example>; Bo <bo@x.example>; cy@x.example\nDee <dee@x.example>, eve@x.example\n').rows).toEqual([
      { row: 1, cells: ['ann@x.example'] },
      { row: 1, cells: ['bo@x.example'] },
      { row: 1, cells: ['cy@x.example'] },
      { row: 2, cells: ['dee@x.example'] },
      { row: 2, cells: ['eve@x.example'] },
    ]);
  });

  it('names the row of whatever is malformed', () => {
    expect(error(() => parseMediaList('Email,Name\na@x.example,"Ann\nb@x.example,B\n'))).toBe('Row 2 opens a quote (") that is never closed.');
    expect(error(() => parseMediaList('Email,Name\na@x.example,A\nb@x.example,B "the" C\n'))).toBe('Row 3 could not be read: a quote (") inside a value must be doubled ("") and the value quoted.');
    expect(error(() => parseMediaList('Email,Name\na@x.example,A\nb@x.example,B,extra\n'))).toBe('Row 3 has 3 columns where the header (row 1) has 2.');
    expect(error(() => decodeMediaList(Uint8Array.from([...new TextEncoder().encode('Email\na@x.example\nb'), 0xe9, 0x0a])))).toBe(
      'Row 3 is not UTF-8 text. Save the file as "CSV UTF-8" and upload it again.',
    );
    expect(parseMediaList(`Email${',x'.repeat(199)}\na@x.example${','.repeat(199)}\n`).headers).toHaveLength(200);
    expect(error(() => parseMediaList(`\nEmail${',x'.repeat(200)}\na@x.example${','.repeat(200)}\n`))).toBe(
      'The header (row 2) has 201 columns; a media list can have at most 200. Remove the columns you do not need (empty ones at the end too) and try again.',
    );
    expect(error(() => parseMediaList(' \r\n'))).toBe('The list is empty.');
    expect(error(() => parseMediaList('Email,Name\n'))).toBe('The list has a header row but no contacts under it.');
    const rows = Array.from({ length: 2001 }, (_, i) => `p${i}@x.example`).join('\n');
    expect(error(() => parseMediaList(`Email\n${rows}`))).toBe('The list has 2,001 contacts; a round goes to at most 2,000. Row 2002 is the first one over.');
    const list = parseMediaList('Name,Phone\nAda,1\n');
    expect(error(() => recipientsOf(list, guessMapping(list.headers), { all: 'reporter', byType: {} }))).toBe(
      'No column is read as the email address: choose "Email" for the column that has the addresses.',
    );
  });

  it('makes recipients as mapped, each with the audience of its contact type or the one for all', () => {
    const list = parseMediaList('First,Last,Email,Publication,Type\nAda,Lovelace,ada@x.example,The Daily,Journalist\nBo,,bo@x.example,,Client\nCy,,cy@x.example,,Alien\n');
    const mapping = guessMapping(list.headers);
    expect(contactTypes(list, mapping)).toEqual(['Journalist', 'Client', 'Alien']);
    expect(contactTypes(list, mapping).map(guessAudience)).toEqual(['reporter', 'client', null]);
    expect(recipientsOf(list, mapping, { all: 'colleague', byType: { Journalist: 'reporter', Client: 'client' } })).toEqual([
      { email: 'ada@x.example', name: 'Ada Lovelace', outlet: 'The Daily', audience: 'reporter' },
      { email: 'bo@x.example', name: 'Bo', audience: 'client' },
      { email: 'cy@x.example', name: 'Cy', audience: 'colleague' },
    ]);
  });
});
