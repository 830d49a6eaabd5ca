import { describe, expect, it } from 'vitest';
import { escapeHtml } from './text';
import { greetingName, listUnsubscribeHeaders, renderInvitation, SUBJECT_MAX_LENGTH, type InvitationInput } from './invitation';

const input: InvitationInput = {
  proName: 'Jane Doe',
  campaignName: 'Spring Launch',
  recipientName: 'Alice',
  audience: 'reporter',
  attribution: 'anonymous',
  surveyUrl: 'https://rapport.example/s/tok123',
  unsubscribeUrl: 'https://rapport.example/u/tok123',
  kind: 'invitation',
};

const LABELS = [
  '1 – Very unresponsive',
  '2 – Slow',
  '3 – Adequate',
  '4 – Responsive',
  '5 – Exceptionally responsive',
];

/** Every link of the HTML part as [href as written, visible text]. */
const links = (html: string) => [...html.matchAll(/<a href="([^"]*)"[^>]*>(.*?)<\/a>/g)].map((m) => [m[1], m[2]]);
/** The HTML without the isolating spans around user-provided values (`isolate`), to read its sentences. */
const unisolated = (html: string) => html.replace(/<span dir="auto" style="unicode-bidi:isolate;">|<\/span>/g, '');

describe('renderInvitation', () => {
  it('writes the subject, single line', () => {
    expect(renderInvitation(input).subject).toBe('How responsive was Jane Doe on the Spring Launch?');
    expect(renderInvitation({ ...input, kind: 'reminder' }).subject).toBe(
      'Reminder: How responsive was Jane Doe on the Spring Launch?',
    );
    expect(renderInvitation({ ...input, proName: 'Jane\r\n\tDoe', campaignName: ' Spring\u2028Launch\u0000' }).subject).toBe(
      'How responsive was Jane Doe on the Spring Launch?',
    );
  });

  it('caps the subject at 150 characters with an ellipsis', () => {
    const subject = renderInvitation({ ...input, campaignName: 'Launch '.repeat(40) }).subject;
    expect(Array.from(subject)).toHaveLength(SUBJECT_MAX_LENGTH);
    expect(subject.startsWith('How responsive was Jane Doe on the Launch Launch')).toBe(true);
    expect(subject.endsWith('…')).toBe(true);
    // Cut by code point: an astral character is never split into half a surrogate pair.
    const emoji = renderInvitation({ ...input, campaignName: '🚀'.repeat(200) }).subject;
    expect(Array.from(emoji)).toHaveLength(SUBJECT_MAX_LENGTH);
    expect(emoji).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('embeds five score links, 1 to 5 in order, with their labels, then the unsubscribe link', () => {
    const { html } = renderInvitation(input);
    expect(links(html)).toEqual([
      ...LABELS.map((label, i) => [`https://rapport.example/s/tok123?score=${i + 1}`, label]),
      ['https://rapport.example/u/tok123', 'Unsubscribe from these surveys'],
    ]);
    expect(unisolated(html)).toContain('When you needed something from Jane Doe, how responsive were they?');
    expect(html).toContain('Clicking a score opens the survey with it selected; nothing is recorded until you submit.');
    expect(html).toContain('max-width:600px');
    // No images and nothing fetched from elsewhere.
    expect(html).not.toMatch(/<img|<link|<script|url\(|src=/i);
  });

  it('writes the plain-text part with the same content and the five links', () => {
    const { text } = renderInvitation({ ...input, agencyName: 'Acme PR', commitment: 'Answer every request within a day', returning: true });
    expect(text).toBe(
      [
        'Hi Alice,',
        '',
        'Jane Doe at Acme PR wants to improve and would value your view of working together on the Spring Launch; it takes a minute, and your answer is anonymous.',
        '',
        'When you needed something from Jane Doe, how responsive were they?',
        '',
        '1 – Very unresponsive: https://rapport.example/s/tok123?score=1',
        '2 – Slow: https://rapport.example/s/tok123?score=2',
        '3 – Adequate: https://rapport.example/s/tok123?score=3',
        '4 – Responsive: https://rapport.example/s/tok123?score=4',
        '5 – Exceptionally responsive: https://rapport.example/s/tok123?score=5',
        '',
        'Clicking a score opens the survey with it selected; nothing is recorded until you submit.',
        '',
        'Last time you told us what could be better; here is what Jane Doe is changing: “Answer every request within a day”',
        '',
        '--',
        'You are receiving this because you worked with Jane Doe at Acme PR on the Spring Launch.',
        'Unsubscribe from these surveys: https://rapport.example/u/tok123',
        '',
      ].join('\n'),
    );
  });

  it('greets by name when given, and says who sees the answer', () => {
    const anonymous = renderInvitation({ ...input, recipientName: undefined });
    expect(anonymous.text.startsWith('Hello,\n')).toBe(true);
    expect(anonymous.text).toContain('it takes a minute, and your answer is anonymous.');
    expect(unisolated(anonymous.html)).toContain('it takes a minute, and your answer is anonymous.');

    const named = renderInvitation({ ...input, attribution: 'named' });
    expect(named.text.startsWith('Hi Alice,\n')).toBe(true);
    const sentence = "it takes a minute, and your answer will be shared with Jane Doe's team, with your name.";
    expect(named.text).toContain(sentence);
    expect(named.text).not.toContain('anonymous');
    expect(unisolated(named.html)).toContain(escapeHtml(sentence));
    expect(named.html).not.toContain('anonymous');

    const reminder = renderInvitation({ ...input, kind: 'reminder' });
    expect(reminder.text).toContain('\nA quick reminder: Jane Doe wants to improve');
    expect(links(reminder.html).slice(0, 5).map(([, label]) => label)).toEqual(LABELS);
  });

  it('shows the commitment block only when there is one, and says "last time" only to someone who answered before', () => {
    expect(renderInvitation(input).text).not.toContain('Last time');
    expect(renderInvitation(input).html).not.toContain('Last time');
    expect(renderInvitation(input).text).not.toContain('After earlier feedback');
    const returning = renderInvitation({ ...input, commitment: 'Reply\r\nfaster', returning: true });
    for (const part of [returning.text, unisolated(returning.html)]) {
      expect(part).toContain('Last time you told us what could be better; here is what Jane Doe is changing: “Reply faster”');
    }
    const first = renderInvitation({ ...input, commitment: 'Reply faster' });
    for (const part of [first.text, unisolated(first.html)]) {
      expect(part).toContain('After earlier feedback, Jane Doe is working on this: “Reply faster”');
      expect(part).not.toContain('Last time');
    }
  });

  it('names the agency, and greets by first name (a title keeps the last name)', () => {
    expect(greetingName('Alice Smith')).toBe('Alice');
    expect(greetingName('  Dr. Jane  Doe ')).toBe('Dr. Doe');
    expect(greetingName('prof Ann Lee-Park')).toBe('prof Lee-Park');
    expect(greetingName('Dr')).toBe('Dr');
    expect(greetingName('')).toBe('');
    expect(greetingName(undefined)).toBe('');
    for (const kind of ['invitation', 'reminder'] as const) {
      const { text, html } = renderInvitation({ ...input, kind, agencyName: 'Acme PR', recipientName: 'Dr. Jane Doe' });
      for (const part of [text, unisolated(html)]) {
        expect(part).toContain('Hi Dr. Doe,');
        expect(part).toContain('Jane Doe at Acme PR wants to improve');
        expect(part).toContain('you worked with Jane Doe at Acme PR on the Spring Launch.');
      }
    }
    const { text } = renderInvitation({ ...input, recipientName: 'Alice Smith' });
    expect(text.startsWith('Hi Alice,\n\nJane Doe wants to improve')).toBe(true);
  });

  it('isolates user-provided names in the HTML, and keeps bidi controls out of the subject and the text part', () => {
    const { subject, text, html } = renderInvitation({ ...input, proName: 'Jane \u202eeoD', campaignName: 'Launch\u2066', recipientName: '\u200fAli', commitment: 'Faster\u202d' });
    expect(subject).toBe('How responsive was Jane eoD on the Launch?');
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
    expect(text).toContain('Hi Ali,');
    expect(html).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
    expect(html).toContain('Hi <span dir="auto" style="unicode-bidi:isolate;">Ali</span>,');
    expect(html).toContain('When you needed something from <span dir="auto" style="unicode-bidi:isolate;">Jane eoD</span>, how responsive were they?');
    expect(html).toContain('<span dir="auto" style="unicode-bidi:isolate;">Faster</span>');
  });

  it('HTML-escapes everything the caller provides', () => {
    const evil = {
      ...input,
      proName: `<script>alert(1)</script> "Jo" O'Neil`,
      campaignName: `<img src=x onerror=alert(2)> & "co"`,
      recipientName: '<b>Al</b>',
      commitment: `</td><script>alert(3)</script>"'`,
      surveyUrl: `https://rapport.example/s/a'onmouseover='x'&y`,
      unsubscribeUrl: `https://rapport.example/u/a'&b`,
    };
    const { html, text } = renderInvitation(evil);
    expect(html).not.toMatch(/<script|<img|<b>|onmouseover='|"Jo"|<\/td><script/);
    expect(unisolated(html)).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;Jo&quot; O&#39;Neil');
    expect(unisolated(html)).toContain('&lt;img src=x onerror=alert(2)&gt; &amp; &quot;co&quot;');
    expect(unisolated(html)).toContain('&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;&quot;&#39;');
    expect(unisolated(html)).toContain('Hi &lt;b&gt;Al&lt;/b&gt;,');
    expect(links(html)).toEqual([
      ...LABELS.map((label, i) => [`https://rapport.example/s/a&#39;onmouseover=&#39;x&#39;&amp;y?score=${i + 1}`, label]),
      ['https://rapport.example/u/a&#39;&amp;b', 'Unsubscribe from these surveys'],
    ]);
    // The plain-text part is not HTML: it keeps the characters as they are.
    expect(text).toContain(`<script>alert(1)</script> "Jo" O'Neil wants to improve`);
  });

  it("keeps a pro's name literal even when it looks like a replacement pattern", () => {
    const { text } = renderInvitation({ ...input, proName: "Jo$&$'" });
    expect(text).toContain("When you needed something from Jo$&$', how responsive were they?");
  });

  it('refuses URLs that are not absolute http(s), and a survey URL with a query', () => {
    expect(() => renderInvitation({ ...input, surveyUrl: 'javascript:alert(1)' })).toThrow('surveyUrl: must be http(s)');
    expect(() => renderInvitation({ ...input, surveyUrl: '/s/tok' })).toThrow('surveyUrl: not an absolute URL');
    expect(() => renderInvitation({ ...input, surveyUrl: 'https://rapport.example/s/t?x=1' })).toThrow('query');
    expect(() => renderInvitation({ ...input, unsubscribeUrl: 'data:text/html,hi' })).toThrow('unsubscribeUrl');
    expect(() => renderInvitation({ ...input, surveyUrl: 'https://rapport.example/s/a"onclick="x' })).toThrow(
      'surveyUrl: contains characters a URL may not',
    );
  });
});

describe('listUnsubscribeHeaders', () => {
  it('gives the RFC 8058 pair', () => {
    expect(listUnsubscribeHeaders('https://rapport.example/u/tok123')).toEqual({
      'List-Unsubscribe': '<https://rapport.example/u/tok123>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('refuses a URL that could break out of the angle brackets', () => {
    expect(() => listUnsubscribeHeaders('https://rapport.example/u/a>, <mailto:evil@example.com')).toThrow('oneClickUrl');
    expect(() => listUnsubscribeHeaders('mailto:unsubscribe@rapport.example')).toThrow('oneClickUrl: must be http(s)');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;');
  });
});
