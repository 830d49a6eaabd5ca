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
    expect(renderProSummary(proSummary()).subject).toBe('Your responsiveness in March 2030: 4.2 out of 5 from 12 answers');
    expect(renderProSummary(withheldSummary()).subject).toBe('Your Rapport summary for March 2030');
    const model = proSummary({ period: { ...proSummary().period, label: 'March\r\nBcc: x@evil.example 2030' } });
    expect(renderProSummary(model).subject).toBe('Your responsiveness in March Bcc: x@evil.example 2030: 4.2 out of 5 from 12 answers');
  });

  it('shows each headline figure in plain words with its answers and likely range, and calls a change only when the model does', () => {
    const { html, text } = renderProSummary(proSummary());
    expect(text).toContain('Responsiveness: 4.2 out of 5, from 12 answers, likely between 3.8 and 4.6\n  February 2030: 3.1 out of 5, from 9 answers, likely between 2.7 and 3.5\n  Up: a real change, the likely ranges do not overlap.\n');
    // % responsive moved from 44% to 83%, but the model says the intervals overlap: no change called.
    expect(text).toContain('Rated you 4 or 5: 83%, from 12 answers, likely between 55% and 95%\n  February 2030: 44%, from 9 answers, likely between 19% and 69%\n  No clear change: the likely ranges overlap.\n');
    // NPS has nothing before: no comparison line at all (the others had one, so no note either).
    expect(text).toContain('Net Promoter Score: +42, from 12 answers, likely between +7 and +77\n\n');
    expect(visible(html)).toContain('▲ Up: a real change');
    for (const body of [visible(html), text]) {
      expect(body).toContain('from 12 answers, likely between 3.8 and 4.6');
      expect(body).toContain('February 2030: 3.1 out of 5, from 9 answers, likely between 2.7 and 3.5');
      expect(body).toContain('Up: a real change, the likely ranges do not overlap.');
      expect(body).not.toMatch(/Down:|n = |interval|No comparison|Nothing to compare/);
      expect(body.match(/Up:/g)).toHaveLength(1);
      // The figures are explained once, at the top.
      expect(body.match(/How to read this: /g)).toHaveLength(1);
      expect(body).toContain('Scores from fewer than 5 answers are not shown, to keep the people who answered anonymous.');
    }
  });

  it('says "no answers" for n = 0, and when nothing can be compared, says so once', () => {
    const base = proSummary();
    const empty = { n: 0, withheld: true } as const;
    const model = proSummary({ headline: base.headline.map((h) => ({ ...h, previous: h.key === 'nps' ? empty : null, change: 'none' as const })) });
    const { html, text } = renderProSummary(model);
    for (const body of [visible(html), text]) {
      expect(body.match(/Nothing to compare with: February 2030 had no answers\./g)).toHaveLength(1);
      expect(body).not.toMatch(/No clear change|n = 0|fewer than 5:/);
      expect(body).toMatch(/May +no answers/);
    }
    const few = renderProSummary(proSummary({ headline: base.headline.map((h) => ({ ...h, previous: { n: 2, withheld: true }, change: 'none' as const })) }));
    expect(few.text.match(/Nothing to compare with: February 2030 had too few answers to show\./g)).toHaveLength(1);
  });

  it('shows the response rate', () => {
    const { html, text } = renderProSummary(proSummary());
    expect(visible(html)).toContain('12 of 30 delivered invitations were answered (40%).');
    expect(text).toContain('12 of 30 delivered invitations were answered (40%).');
    const none = renderProSummary(proSummary({ responseRate: { delivered: 0, responses: 0, percent: null } }));
    expect(none.text).toContain('No survey invitations were delivered in this period.');
    // A pooled batch released this period holds answers to earlier invitations: no rate over 100%.
    const pooled = renderProSummary(proSummary({ responseRate: { delivered: 15, responses: 18, percent: 120 } }));
    expect(pooled.text).toContain('RESPONSE RATE\n18 answers counted this period, some to earlier surveys (held back until enough people had answered), and 15 invitations delivered.\n');
    expect(pooled.text).not.toContain('120%');
  });

  it('names the weakest dimension with its statement and its tips, in HTML and text', () => {
    const model = proSummary();
    const { html, text } = renderProSummary(model);
    expect(model.weakest!.tips).toHaveLength(3);
    for (const body of [visible(html), text]) {
      expect(body).toContain('Anticipated their needs: 3.1 out of 5 from 7 answers, your lowest score this period.');
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
    expect(text).toContain('No part of the survey had at least 5 answers this period, so there is no focus area yet.');
    expect(text).not.toContain('What to try next');
  });

  it('draws a 12-month trend as table bars, with each month’s answers and likely range', () => {
    const model = proSummary();
    const { html, text } = renderProSummary(model);
    // 4.2 of 5 fills 84% of the track.
    expect(html).toContain('width="84%"');
    expect(html).toContain('width="16%"');
    // Ten months with a value have a filled bar; the two withheld ones are dashed and empty.
    expect(html.match(/bgcolor="#4f46e5"/g)).toHaveLength(10);
    expect(html.match(/border:1px dashed/g)).toHaveLength(2);
    const trendText = text.split('MONTH BY MONTH')[1]!.split('RESPONSE RATE')[0]!.trim().split('\n').slice(1);
    expect(trendText).toHaveLength(12);
    expect(trendText[0]).toMatch(/^Apr +2 answers, too few to show$/);
    expect(trendText[1]).toMatch(/^May +no answers$/);
    expect(trendText[11]).toBe('Mar  █████████████████░░░  4.2 · 12 answers, likely 3.8–4.6');
    expect(visible(html)).toContain('Mar 4.2 · 12 answers, likely 3.8–4.6');
    expect(visible(html)).toContain('Apr 2 answers, too few to show');
    expect(visible(html)).toContain('May no answers');
  });

  it('never shows a number for a withheld figure, only its count, and says why once', () => {
    const { html, text } = renderProSummary(withheldSummary());
    const shown = visible(html);
    for (const all of [shown, text]) {
      // The response rate is counts of invitations and answers, not a score: it stays.
      const rate = '3 of 10 delivered invitations were answered (30%).';
      expect(all).toContain(rate);
      const body = all.replaceAll(rate, '');
      expect(body).toMatch(/Responsiveness:? 3 answers, too few to show/);
      expect(body.match(/Not enough answers to show yet: at least 5 are needed, to keep them anonymous\./g)).toHaveLength(1);
      expect(body.match(/Nothing to compare with: February 2030 had too few answers to show\./g)).toHaveLength(1);
      expect(body).toContain('Responsiveness since then: 3 answers, too few to show');
      // No score anywhere: no decimals, no percentages but the "95%" of how to read it, no NPS points.
      const figures = body.replace(/How to read this: [^]*?anonymous\./, '');
      expect(figures).not.toMatch(/\d\.\d/);
      expect(figures).not.toMatch(/\d%/);
      expect(figures).not.toMatch(/[+-]\d/);
      expect(figures).not.toContain('likely');
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
    const { html, text } = renderProSummary({ ...model, commentCount: 7 });
    expect(text).toContain('WHAT PEOPLE SAID\nThe latest 3 of 7 comments this period, without names. Your agency can read all 7 in Rapport\'s responses export.\n\n');
    expect(visible(html)).toContain("The latest 3 of 7 comments this period, without names. Your agency can read all 7 in Rapport's responses export.");
    expect(text).toContain('A reporter:\n  One\n\nA colleague:\n  Two\n\nA client:\n  Three\n\n  after a gap\n');
    expect(text).not.toContain('Four');
    expect(html).toContain('<span dir="auto" style="unicode-bidi:isolate;">Three</span><br><br><span dir="auto" style="unicode-bidi:isolate;">after a gap</span>');
    expect(visible(html)).not.toContain('Four');
    expect(renderProSummary(proSummary()).text).toContain("All 2 comments this period, without names. Your agency can also read them in Rapport's responses export.");
    const none = renderProSummary(proSummary({ comments: [], commentCount: 0 }));
    expect(none.text).not.toContain('WHAT PEOPLE SAID');
    expect(none.html).not.toContain('What people said');
  });

  it('shows the commitment, since when, and the responsiveness since then', () => {
    const { html, text } = renderProSummary(proSummary());
    expect(text).toContain('Since 14 February 2030: “I will answer reporters within two hours.”\nResponsiveness since then: 4.3 out of 5, from 9 answers, likely between 3.9 and 4.7');
    expect(visible(html)).toContain('Responsiveness since then: 4.3 out of 5, from 9 answers, likely between 3.9 and 4.7');
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
  it('lists who needs attention, the movers and the team in plain words, with answers, ranges and withheld groups', () => {
    const { subject, html, text } = renderAgencySummary(agencySummary());
    expect(subject).toBe('Northwind Communications: team responsiveness in March 2030');
    expectMailSafe(html);
    const attention = text.split('NEEDS ATTENTION')[1]!.split('BIGGEST MOVERS')[0]!;
    expect(attention).toContain(
      '- Omar Haddad: 2.6 out of 5, from 8 answers, likely between 2.1 and 3.1; February 2030: 3.9 out of 5, from 10 answers, likely between 3.5 and 4.3; down, a real change',
    );
    expect(attention).not.toContain('Jane');
    const movers = text.split('BIGGEST MOVERS')[1]!.split('TEAM')[0]!;
    expect(movers).toContain('Jane Doe: 4.2');
    expect(movers).toContain('up, a real change');
    for (const body of [text, visible(html)]) {
      expect(body).toContain('Li Wei');
      expect(body).toContain('3 answers, too few to show');
      expect(body.match(/How to read this: /g)).toHaveLength(1);
      expect(body).not.toMatch(/n = |interval|hidden for anonymity/);
    }
    // Li Wei's current figure is withheld: no number appears between the name and the count.
    expect(text).toContain('- Li Wei: 3 answers, too few to show; February 2030: 4.0 out of 5, from 6 answers');
    expect(visible(html)).toContain('Pro March 2030 February 2030 Change Jane Doe 4.2 from 12 answers');
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
    expect(text).toContain('No real changes this period.');
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
