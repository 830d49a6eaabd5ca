import { escapeHtml } from './text';

/** The font stack of every email: system fonts, no web fonts to fetch. */
export const FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";
/** Lets long words and URLs wrap inside a cell instead of pushing the layout wider than 600px. */
export const WRAP = 'word-break:break-word;overflow-wrap:anywhere;';

/**
 * The document every Rapport email shares, in the form every mail client renders: tables and
 * inline styles only, one centred white card of at most 600px (a fixed 600px table for Outlook's
 * Word engine), no images and no remote resources. `rows` are the card's rows (`<tr>…</tr>`) and
 * `footerHtml` the footer cell's content, both already escaped by the caller; the subject and
 * preheader (the inbox preview line) are escaped here.
 */
export function emailDocument(p: { subject: string; preheader: string; rows: readonly string[]; footerHtml: string }): string {
  const e = escapeHtml;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="x-apple-disable-message-reformatting">',
    `<title>${e(p.subject)}</title>`,
    '</head>',
    '<body style="margin:0;padding:0;background-color:#f3f4f6;">',
    `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;" aria-hidden="true">${e(p.preheader)}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f3f4f6" style="background-color:#f3f4f6;">',
    '<tr><td align="center" style="padding:24px 12px;">',
    '<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:100%;max-width:600px;table-layout:fixed;background-color:#ffffff;border-radius:12px;">',
    '<tr><td style="padding:24px 24px 8px 24px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="table-layout:fixed;">',
    ...p.rows,
    '</table>',
    '</td></tr>',
    `<tr><td style="padding:16px 24px 24px 24px;border-top:1px solid #e5e7eb;${FONT}font-size:13px;line-height:20px;color:#6b7280;${WRAP}">${p.footerHtml}</td></tr>`,
    '</table>',
    '<!--[if mso]></td></tr></table><![endif]-->',
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
  ].join('\n');
}
