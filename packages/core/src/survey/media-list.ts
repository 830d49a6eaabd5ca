import { parse } from 'csv-parse/sync';
import { AUDIENCES, type Audience } from './instrument';
import { MAX_RECIPIENTS, type RoundInput } from './round';

/** A media list's largest file: 2,000 rows with names, outlets and a few more columns fit well within it. */
export const MAX_MEDIA_LIST_BYTES = 1024 * 1024;

/**
 * A media list's most columns: media databases export a few dozen. Each is a choice on the
 * mapping page and a field of the next steps' forms: 250,000 columns (750 KB of commas) made a
 * 130 MB page, and 20,000 a form over the next step's body limit.
 */
export const MAX_MEDIA_LIST_COLUMNS = 200;

/** What a column of a media list can be read as; `''` leaves it out. */
export const MEDIA_LIST_FIELDS = ['email', 'firstName', 'lastName', 'fullName', 'outlet', 'contactType'] as const;
export type MediaListField = (typeof MEDIA_LIST_FIELDS)[number];
export type ColumnMapping = (MediaListField | '')[];

export const FIELD_LABELS: Record<MediaListField, string> = {
  email: 'Email',
  firstName: 'First name',
  lastName: 'Last name',
  fullName: 'Full name',
  outlet: 'Outlet',
  contactType: 'Contact type (audience)',
};

/**
 * The column names media databases and spreadsheets export, per field, most specific first: a
 * header is compared lower-cased with everything but letters and digits removed ("E-mail
 * Address" is `emailaddress`). Muck Rack exports First Name, Last Name, Email, Outlet(s), Title;
 * Cision's Communications Cloud Contact First/Last Name, Email Address, Outlet Name or Media
 * Outlet, Job Title, Media Type; Prowly First name, Last name, Email, Media outlet or Publication,
 * Position; hand-made spreadsheets anything of the kind (Name, E-mail, Publication, Type). When
 * two columns fit one field, the one matching an earlier alias wins; each column reads as one
 * field at most, and the person can change every guess.
 */
const HEADER_ALIASES: Record<MediaListField, string[]> = {
  email: ['email', 'emailaddress', 'contactemail', 'workemail', 'primaryemail', 'businessemail', 'email1', 'emails', 'mail'],
  firstName: ['firstname', 'contactfirstname', 'givenname', 'forename', 'first'],
  lastName: ['lastname', 'contactlastname', 'surname', 'familyname', 'last'],
  fullName: ['fullname', 'name', 'contactname', 'journalistname', 'displayname', 'contact', 'journalist', 'influencer'],
  outlet: ['outlet', 'outletname', 'mediaoutlet', 'mediaoutletname', 'outlets', 'primaryoutlet', 'publication', 'publicationname', 'media', 'medianame', 'newspaper', 'company', 'companyname', 'organization', 'organisation', 'employer'],
  contactType: ['contacttype', 'audience', 'type', 'relationship', 'role', 'category', 'jobtitle', 'title', 'position', 'mediatype', 'outlettype'],
};

const normalizeHeader = (header: string) => header.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** The field each column reads as, guessed from its header (see HEADER_ALIASES). */
export function guessMapping(headers: string[]): ColumnMapping {
  const normalized = headers.map(normalizeHeader);
  const mapping: ColumnMapping = headers.map(() => '');
  for (const field of MEDIA_LIST_FIELDS) {
    for (const alias of HEADER_ALIASES[field].map(normalizeHeader)) {
      const column = normalized.findIndex((h, i) => h === alias && mapping[i] === '');
      if (column >= 0) {
        mapping[column] = field;
        break;
      }
    }
  }
  // A full name beside a first and a last name is the same person twice: the parts are kept.
  if (mapping.includes('firstName') && mapping.includes('fullName')) mapping[mapping.indexOf('fullName')] = '';
  return mapping;
}

/**
 * Words of a contact-type cell, most telling first: a media database's job titles and media
 * types are reporters; "client" or "colleague" words are those audiences. Anything else takes the
 * audience chosen for all rows.
 */
const AUDIENCE_WORDS: [RegExp, Audience][] = [
  [/\b(client|customer|account)s?\b/i, 'client'],
  [/\b(colleague|internal|staff|team|coworker|co-worker|partner|agency)s?\b/i, 'colleague'],
  [/\b(reporter|journalist|editor|writer|correspondent|columnist|producer|blogger|podcaster|host|anchor|freelancer?|contributor|press|media|newspaper|magazine|radio|tv|television|online|broadcast|news|influencer)s?\b/i, 'reporter'],
];

export function guessAudience(value: string): Audience | null {
  const exact = AUDIENCES.find((a) => a === value.trim().toLowerCase());
  if (exact) return exact;
  return AUDIENCE_WORDS.find(([words]) => words.test(value))?.[1] ?? null;
}

/** A media list that cannot be read: the message names the row when one is at fault. */
export class MediaListError extends Error {}

export interface MediaList {
  headers: string[];
  /** The data rows, each with its row number as a spreadsheet shows it (the header is row 1). */
  rows: { row: number; cells: string[] }[];
}

/** Decodes a file as UTF-8 (without its BOM, if any), naming the row of the first byte that is not. */
export function decodeMediaList(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = new TextDecoder('utf-8').decode(bytes);
    const row = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
    throw new MediaListError(`Row ${row} is not UTF-8 text. Save the file as "CSV UTF-8" and upload it again.`);
  }
}

/** The separator of the header line (the first that is not blank): comma, semicolon (European Excel) or tab, whichever it has most of outside quotes. */
function delimiterOf(text: string): string {
  const firstLine = (text.split('\n').find((line) => line.trim() !== '') ?? '').replace(/"[^"]*"/g, '');
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  return counts.reduce((best, next) => (next[1] > best[1] ? next : best))[0];
}

/**
 * Reads a media list: a CSV file (comma, semicolon or tab separated, with or without BOM, CRLF
 * LF or CR alone), or pasted text, which is a CSV too unless its first line is an address (then it
 * is addresses, one a line). Fully empty rows are left out; every other row must have the header's
 * number of columns, `MAX_MEDIA_LIST_COLUMNS` at most.
 */
export function parseMediaList(input: string): MediaList {
  // Line breaks as LF: a file may end its lines in CR alone (Excel for Mac's "CSV (Macintosh)"), and
  // a browser sends a form's list back with every line break, those in quoted values too, as CRLF:
  // the list must read alike at every step, with the same row numbers (the size too: it is the LF one).
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (text.trim() === '') throw new MediaListError('The list is empty.');
  if (new TextEncoder().encode(text).length > MAX_MEDIA_LIST_BYTES) throw new MediaListError(`The list is larger than ${MAX_MEDIA_LIST_BYTES / 1024 / 1024} MB.`);
  const firstLine = text.trimStart().split('\n', 1)[0]!;
  if (firstLine.includes('@')) {
    // "Ada <ada@example.com>" or "ada@example.com, Ada" as mail programs copy them: each part with an
    // @ (a copied To: field is one line, `"Lee, Ada" <ada@x>; Bo <bo@x>`), the address in <> if any.
    const addresses = (line: string) => {
      const parts = line.split(/[,;\t]/).filter((part) => part.includes('@'));
      return (parts.length ? parts : [line]).map((part) => (part.match(/<([^<>]*@[^<>]*)>/)?.[1] ?? part).trim());
    };
    const rows = text.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : addresses(line).map((address) => ({ row: i + 1, cells: [address] }))));
    return checkSize({ headers: ['Email'], rows }, 0);
  }
  /** The line each record ends on. */
  const ends: number[] = [];
  let records: string[][];
  try {
    records = parse(text, {
      delimiter: delimiterOf(text),
      relax_column_count: true,
      skip_records_with_empty_values: true,
      on_record: (record, { lines }) => {
        ends.push(lines);
        return record;
      },
    });
  } catch (error) {
    const next = (ends.at(-1) ?? 0) + 1;
    if ((error as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED') throw new MediaListError(`Row ${next} opens a quote (") that is never closed.`);
    throw new MediaListError(`Row ${(error as { lines?: number }).lines ?? next} could not be read: a quote (") inside a value must be doubled ("") and the value quoted.`);
  }
  // A record's row is the line it starts on: values quoted over several lines end further down.
  const entries = records.map((record, i) => ({ record, row: ends[i]! - record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0) }));
  const [header, ...data] = entries;
  if (!header) throw new MediaListError('The list is empty.');
  const headers = header.record.map((h) => h.trim());
  if (headers.length > MAX_MEDIA_LIST_COLUMNS) {
    throw new MediaListError(`The header (row ${header.row}) has ${headers.length.toLocaleString('en')} columns; a media list can have at most ${MAX_MEDIA_LIST_COLUMNS}. Remove the columns you do not need (empty ones at the end too) and try again.`);
  }
  for (const entry of data) {
    if (entry.record.length !== headers.length) {
      throw new MediaListError(`Row ${entry.row} has ${entry.record.length} columns where the header (row 1) has ${headers.length}.`);
    }
  }
  return checkSize({ headers, rows: data.map((entry) => ({ row: entry.row, cells: entry.record.map((c) => c.trim()) })) }, 1);
}

function checkSize(list: MediaList, headerRows: number): MediaList {
  if (list.rows.length === 0) throw new MediaListError(headerRows ? 'The list has a header row but no contacts under it.' : 'The list is empty.');
  if (list.rows.length > MAX_RECIPIENTS) {
    throw new MediaListError(`The list has ${list.rows.length.toLocaleString('en')} contacts; a round goes to at most ${MAX_RECIPIENTS.toLocaleString('en')}. Row ${list.rows[MAX_RECIPIENTS]!.row} is the first one over.`);
  }
  return list;
}

/** How rows get their audience: the contact-type column's values, each mapped, else the one for all rows. */
export interface AudienceRule {
  all: Audience;
  byType: Record<string, Audience>;
}

/** The distinct values of the contact-type column, in order of first appearance. */
export const contactTypes = (list: MediaList, mapping: ColumnMapping): string[] => {
  const column = mapping.indexOf('contactType');
  return column < 0 ? [] : [...new Set(list.rows.map((r) => r.cells[column]!).filter((v) => v !== ''))];
};

/** The round's recipients from a list as mapped, in the list's order (index i is `list.rows[i]`). */
export function recipientsOf(list: MediaList, mapping: ColumnMapping, audience: AudienceRule): RoundInput['recipients'] {
  const column = (field: MediaListField) => mapping.indexOf(field);
  if (column('email') < 0) throw new MediaListError('No column is read as the email address: choose "Email" for the column that has the addresses.');
  const cell = (cells: string[], field: MediaListField) => (column(field) < 0 ? '' : cells[column(field)]!);
  return list.rows.map(({ cells }) => {
    const name = cell(cells, 'fullName') || [cell(cells, 'firstName'), cell(cells, 'lastName')].filter(Boolean).join(' ');
    const outlet = cell(cells, 'outlet');
    const type = cell(cells, 'contactType');
    return {
      email: cell(cells, 'email'),
      ...(name ? { name } : {}),
      ...(outlet ? { outlet } : {}),
      // Own keys only: a type named like an object's member (`constructor`) is not one of the rule's.
      audience: (type && Object.hasOwn(audience.byType, type) && audience.byType[type]) || audience.all,
    };
  });
}
