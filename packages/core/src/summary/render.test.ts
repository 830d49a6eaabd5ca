import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../email/text';
import { renderAgencySummary, renderProSummary } from './render';
import { agencySummary, HOSTILE_COMMENT, HOSTILE_NAME, hostileSummary, proSummary, withheldSummary } from './render.fixtures';
import { TIPS } from './tips';

/** What a reader sees of the HTML: tags dropped (inline spans, such as the bidi isolates, without a space), entities decoded, whitespace collapsed. */
const visible = (html: string) =>
  html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<\/?span[^>]*>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** Email-client safety: nothing that needs a stylesheet, a script, an image or the network. */
function expectMailSafe(html: string) {
  expect(html).not.toMatch(/<svg|<img|<script|<style|<link|<iframe|<object|<form|url\(/i);
  // Escaped text never holds a raw "<", so these are all the tags, and none has a source or a handler.
  for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) expect(tag).not.toMatch(/\s(src|on\w+|background)\s*=/i);
  expect(html).toContain('max-width:600px');
  // Every http(s) in the markup is a link target, never something fetched.
  for (const m of html.matchAll(/(\w+)="https?:/g)) expect(m[1]).toBe('href');
}

describe('renderProSummary', () => {
  it('writes a single-line subject with the headline figure and its n, or a neutral one when withheld', () => {
    expect(renderProSummary(proSummary()).subject).toBe('Your responsiveness in March 2030: 4.2 (n = 12)');
    expect(renderProSummary(withheldSummary()).subject).toBe('Your Rapport summary for March 2030');
    const model = proSummary({ period: { ...proSummary().period, label: 'March\r\nBcc: x@evil.example 2030' } });
    expect(renderProSummary(model).subject).toBe('Your responsiveness in March Bcc: x@evil.example 2030: 4.2 (n = 12)');
  });

  it('shows each headline figure with its n and interval, and calls a change only when the model does', () => {
    const { html, text } = renderProSummary(proSummary());
    for (const body of [visible(html), text]) {
      expect(body).toContain('4.2');
      expect(body).toContain('n = 12, 95% interval 3.8 to 4.6');
      expect(body).toContain('February 2030: 3.1 (n = 9, 95% interval 2.7 to 3.5)');
      expect(body).toContain('83%');
      expect(body).toContain('n = 12, 95% interval 55% to 95%');
      expect(body).toContain('+42');
      expect(body).toContain('Up since February 2030: the intervals do not overlap.');
      // % responsive moved from 44% to 83%, but the model says the intervals overlap: no change called.
      expect(body).toContain('No clear change since February 2030: the intervals overlap.');
      expect(body).toContain('No comparison: nothing to compare with in February 2030.');
      expect(body).not.toMatch(/Down since/);
      expect(body.match(/Up since/g)).toHaveLength(1);
    }
  });

  it('shows the response rate', () => {
    const { html, text } = renderProSummary(proSummary());
    expect(visible(html)).toContain('12 of 30 delivered invitations were answered (40%).');
    expect(text).toContain('12 of 30 delivered invitations were answered (40%).');
    const none = renderProSummary(proSummary({ responseRate: { delivered: 0, responses: 0, rate: null } }));
    expect(none.text).toContain('No survey invitations were delivered in this period.');
  });

  it('names the weakest dimension with its statement and its tips, in HTML and text', () => {
    const model = proSummary();
    const { html, text } = renderProSummary(model);
    expect(model.weakest!.tips).toHaveLength(3);
    for (const body of [visible(html), text]) {
      expect(body).toContain('Anticipated their needs: 3.1 out of 5 (n = 7), your lowest score this period.');
      expect(body).toContain('“Jane Doe anticipated my needs before I had to ask.”');
      for (const tip of model.weakest!.tips) expect(body).toContain(tip.text);
    }
    for (const tip of model.weakest!.tips) expect(html).toContain(escapeHtml(tip.text));
    // Tips of other dimensions are not there.
    for (const tip of TIPS.listening) expect(text).not.toContain(tip.text);
    expect(text).toMatch(/What to try next:\n1\. .+\n2\. .+\n3\. .+/);
  });

  it('says there is no focus area when no dimension meets k', () => {
    const { text } = renderProSummary(proSummary({ weakest: null }));
    expect(text).toContain('No dimension had at least 5 answers this period, so there is no focus area yet.');
    expect(text).not.toContain('What to try next');
  });

  it('draws a 12-month trend as table bars, with each month’s n and interval', () => {
    const model = proSummary();
    const { html, text } = renderProSummary(model);
    // 4.2 of 5 fills 84% of the track.
    expect(html).toContain('width="84%"');
    expect(html).toContain('width="16%"');
    // Ten months with a value have a filled bar; the two withheld ones are dashed and empty.
    expect(html.match(/bgcolor="#4f46e5"/g)).toHaveLength(10);
    expect(html.match(/border:1px dashed/g)).toHaveLength(2);
    const trendText = text.split('TREND')[1]!.split('RESPONSE RATE')[0]!.trim().split('\n').slice(1);
    expect(trendText).toHaveLength(12);
    expect(trendText[0]).toMatch(/^Apr +n = 2 \(fewer than 5: hidden for anonymity\)$/);
    expect(trendText[1]).toMatch(/^May +n = 0 \(fewer than 5: hidden for anonymity\)$/);
    expect(trendText[11]).toBe('Mar  █████████████████░░░  4.2 (n = 12, 95% interval 3.8 to 4.6)');
    expect(visible(html)).toContain('Mar 4.2 (n = 12, 3.8–4.6)');
    expect(visible(html)).toContain('Apr n = 2 (fewer than 5: hidden for anonymity)');
  });

  it('never shows a number for a withheld figure, only its n and why', () => {
    const { html, text } = renderProSummary(withheldSummary());
    const shown = visible(html);
    for (const all of [shown, text]) {
      // The response rate is counts of invitations and answers, not a score: it stays.
      const rate = '3 of 10 delivered invitations were answered (30%).';
      expect(all).toContain(rate);
      const body = all.replaceAll(rate, '');
      expect(body).toContain('n = 3 (fewer than 5: hidden for anonymity)');
      expect(body).toContain('February 2030: n = 2 (fewer than 5: hidden for anonymity)');
      expect(body).toContain('No comparison: February 2030 had too few answers to show.');
      // No score anywhere: no decimals, no percentages but the "95%" of the footer, no NPS points.
      expect(body).not.toMatch(/\d\.\d/);
      expect(body.replaceAll('95%', '')).not.toMatch(/\d%/);
      expect(body).not.toMatch(/[+-]\d/);
      expect(body).not.toContain('interval 3');
    }
    expect(html).not.toContain('bgcolor="#4f46e5"');
    expect(text).not.toContain('█');
  });

  it('shows up to three comments with the audience only, keeping line breaks', () => {
    const model = proSummary({
      comments: [
        { audience: 'reporter', text: 'One' },
        { audience: 'colleague', text: 'Two' },
        { audience: 'client', text: 'Three\n\n\n\nafter a gap' },
        { audience: 'client', text: 'Four' },
      ],
    });
    const { html, text } = renderProSummary(model);
    expect(text).toContain('A reporter:\n  One\n\nA colleague:\n  Two\n\nA client:\n  Three\n\n  after a gap\n');
    expect(text).not.toContain('Four');
    expect(html).toContain('<span dir="auto" style="unicode-bidi:isolate;">Three</span><br><br><span dir="auto" style="unicode-bidi:isolate;">after a gap</span>');
    expect(visible(html)).not.toContain('Four');
    const none = renderProSummary(proSummary({ comments: [] }));
    expect(none.text).not.toContain('WHAT PEOPLE SAID');
    expect(none.html).not.toContain('What people said');
  });

  it('shows the commitment, since when, and the responsiveness since then', () => {
    const { html, text } = renderProSummary(proSummary());
    expect(text).toContain('Since 14 February 2030: “I will answer reporters within two hours.”\nResponsiveness since then: 4.3 (n = 9, 95% interval 3.9 to 4.7)');
    expect(visible(html)).toContain('Responsiveness since then: 4.3 (n = 9, 95% interval 3.9 to 4.7)');
    expect(visible(html)).toContain('Since 14 February 2030 “I will answer reporters within two hours.”');
    expect(renderProSummary(proSummary({ commitment: null })).text).not.toContain('COMMITMENT');
  });

  it('is mail-client safe: tables and inline styles, no images, scripts, SVG or remote resources', () => {
    for (const model of [proSummary(), withheldSummary(), hostileSummary()]) {
      const { html } = renderProSummary(model);
      expectMailSafe(html);
      expect(html).toContain('<table role="presentation"');
      expect(html).toContain('<a href="https://rapport.example/docs"');
    }
    // A more-URL that is not http(s) is dropped, not linked.
    const { html, text } = renderProSummary(proSummary({ moreUrl: 'javascript:alert(1)' }));
    expect(html).not.toContain('javascript:');
    expect(text).not.toContain('javascript:');
  });

  it('escapes hostile names, comments and commitments in the HTML, and keeps them to one line in the text', () => {
    const { subject, html, text } = renderProSummary(hostileSummary());
    expect(html).not.toMatch(/<script|<img|<b>/i);
    expect(html).toContain(escapeHtml(HOSTILE_NAME));
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Reply faster &quot;&gt;&lt;img src=x onerror=alert(3)&gt; &amp; sign your emails');
    expect(html).toContain('&lt;script&gt;alert(4)&lt;/script&gt;');
    expect(html).toContain('&amp; Partners &lt;b&gt;Global&lt;/b&gt;');
    expect(visible(html)).toContain(HOSTILE_COMMENT);
    // The text part is plain text: the same words, verbatim, with no control characters.
    expect(text).toContain(HOSTILE_NAME);
    expect(text).toContain(HOSTILE_COMMENT);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\r]/);
    expect(text).toContain('Second paragraph after control chars.');
    expect(subject).not.toMatch(/[\r\n]/);
  });
});

describe('renderAgencySummary', () => {
  it('lists who needs attention, the movers and the team, with n, intervals and withheld groups', () => {
    const { subject, html, text } = renderAgencySummary(agencySummary());
    expect(subject).toBe('Northwind Communications: team responsiveness in March 2030');
    expectMailSafe(html);
    const attention = text.split('NEEDS ATTENTION')[1]!.split('BIGGEST MOVERS')[0]!;
    expect(attention).toContain('- Omar Haddad: 2.6 (n = 8, 95% interval 2.1 to 3.1); before: 3.9 (n = 10, 95% interval 3.5 to 4.3); down (intervals separate)');
    expect(attention).not.toContain('Jane');
    const movers = text.split('BIGGEST MOVERS')[1]!.split('TEAM')[0]!;
    expect(movers).toContain('Jane Doe: 4.2');
    expect(movers).toContain('up (intervals separate)');
    for (const body of [text, visible(html)]) {
      expect(body).toContain('Li Wei');
      expect(body).toContain('n = 3 (fewer than 5: hidden for anonymity)');
    }
    // Li Wei's current figure is withheld: no number appears between the name and the count.
    expect(text).toMatch(/- Li Wei: n = 3 \(fewer than 5: hidden for anonymity\); before: 4\.0/);
    expect(html).toContain('▲ up');
    expect(html).toContain('▼ down');
  });

  it('escapes hostile pro names', () => {
    const { html, text } = renderAgencySummary(agencySummary({ agencyName: 'Evil\r\n<script>x</script>' }));
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain(escapeHtml(HOSTILE_NAME));
    expect(text).toContain(HOSTILE_NAME);
    expect(renderAgencySummary(agencySummary({ agencyName: 'Evil\r\n<script>x</script>' })).subject).toBe(
      'Evil <script>x</script>: team responsiveness in March 2030',
    );
  });

  it('says so when a list is empty', () => {
    const { text } = renderAgencySummary(agencySummary({ needAttention: [], movers: [] }));
    expect(text).toContain('No pros need attention this period.');
    expect(text).toContain('No separated changes this period.');
  });
});

describe('bidi isolation in summaries', () => {
  it('isolates names, the agency and comments in the HTML; the subject and text part keep no bidi control', () => {
    const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;
    const pro = renderProSummary(proSummary({ agencyName: 'Acme \u202eRP', pro: { proId: 'pro_1', name: 'Jane \u202eeoD' } }));
    const agency = renderAgencySummary(agencySummary({ agencyName: '\u202eAcme' }));
    for (const mail of [pro, agency]) {
      expect(mail.subject).not.toMatch(BIDI);
      expect(mail.text).not.toMatch(BIDI);
      expect(mail.html).not.toMatch(BIDI);
    }
    expect(pro.html).toContain('Hi <span dir="auto" style="unicode-bidi:isolate;">Jane eoD</span>, here is how');
    expect(pro.html).toContain('Sent by Rapport for <span dir="auto" style="unicode-bidi:isolate;">Acme RP</span>.');
    expect(agency.subject).toBe('Acme: team responsiveness in March 2030');
    expect(agency.html).toContain('of <span dir="auto" style="unicode-bidi:isolate;">Acme</span> rated your team');
  });
});
