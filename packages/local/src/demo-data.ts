/**
 * The demo agency's cast and words (`npm run demo`): a small PR agency, its pros, their clients,
 * the outlets they pitch, and what people write in the survey's comment box. Addresses are under
 * `.example` (RFC 2606), so nothing here can ever reach a real mailbox.
 */
import type { Audience, Dimension } from '@rapport/core';

export const AGENCY = {
  name: 'Harbour & Finch PR',
  timezone: 'Europe/London',
  domain: 'harbourfinch.example',
  /** The agency's admin in the console, who also receives the agency summary. */
  admin: 'olivia.grant@harbourfinch.example',
  adminName: 'Olivia Grant',
  anonymityThreshold: 3,
};

export interface DemoPro {
  name: string;
  email: string;
  clients: readonly [string, string];
  outlets: readonly string[];
  /** Mean responsiveness in each of the twelve months, oldest first: the story the scores tell. */
  arc: readonly number[];
  /** The dimension people rate lowest: the summary's focus area (one reporters rate: their groups reach k). */
  weakest: Dimension;
  /** A commitment made at the start of a month (0 = the oldest month). */
  commitment?: { month: number; text: string };
}

const line = (from: number, to: number) => Array.from({ length: 12 }, (_, m) => from + ((to - from) * m) / 11);

export const PROS: readonly DemoPro[] = [
  {
    name: 'Maya Okafor',
    email: 'maya.okafor@harbourfinch.example',
    clients: ['Brightwave Audio', 'Lumen Home'],
    outlets: ['The Gadget Review', 'Daily Ledger', 'Wired Weekly', 'Morning Post'],
    arc: line(3.5, 4.5),
    weakest: 'listening',
    commitment: { month: 3, text: 'I will send coverage reports every Monday, before anyone has to ask.' },
  },
  {
    name: 'Daniel Reyes',
    email: 'daniel.reyes@harbourfinch.example',
    clients: ['Castle Ridge Bank', 'Northstar Insurance'],
    outlets: ['Financial Courier', 'Daily Ledger', 'Markets Today', 'City Wire'],
    arc: line(4.0, 4.1),
    weakest: 'followThrough',
  },
  {
    name: 'Sofia Lindqvist',
    email: 'sofia.lindqvist@harbourfinch.example',
    clients: ['Meridian Health', 'Vale Pharmaceuticals'],
    outlets: ['Health Desk', 'Morning Post', 'Science Today', 'The Clinician'],
    // A hard spring, a commitment in month 7, then a recovery.
    arc: [3.9, 3.9, 3.8, 3.6, 3.3, 3.1, 3.2, 3.6, 3.9, 4.1, 4.2, 4.3],
    weakest: 'listening',
    commitment: { month: 6, text: 'I will reply to every reporter the same day, even if only to say when I will have an answer.' },
  },
  {
    name: 'Tom Becker',
    email: 'tom.becker@harbourfinch.example',
    clients: ['Greenfield Energy', 'Atlas Logistics'],
    outlets: ['Energy Monitor', 'City Wire', 'Trade Journal', 'Financial Courier'],
    // Slipping all year: the agency summary lists him under "needs attention".
    arc: [4.2, 4.2, 4.1, 4.0, 3.9, 3.7, 3.6, 3.4, 3.2, 3.0, 2.8, 2.6],
    weakest: 'relevance',
  },
];

export const CAMPAIGN_KINDS = [
  'new product launch',
  'quarterly results',
  'trade show',
  'executive interview tour',
  'consumer survey report',
  'partnership announcement',
  'awards entry',
  'summer feature pitch',
  'back-to-work campaign',
  'sustainability report',
  'holiday gift guides',
  'year in review',
] as const;

export const FIRST_NAMES = [
  'Alex', 'Amara', 'Ben', 'Carla', 'Chen', 'Dara', 'Elena', 'Farah', 'Gabriel', 'Hana', 'Ibrahim', 'Isla', 'Jonas', 'Kemi', 'Leo', 'Lucia',
  'Mateo', 'Nadia', 'Noah', 'Olu', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tariq', 'Uma', 'Victor', 'Wen', 'Yara', 'Zoe', 'Omar', 'Freya',
];

export const LAST_NAMES = [
  'Adams', 'Baptiste', 'Costa', 'Dubois', 'Evans', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Lopez', 'Murphy', 'Nakamura', 'Obi', 'Patel',
  'Quinlan', 'Rossi', 'Schmidt', 'Tanaka', 'Ueda', 'Varga', 'Walsh', 'Xu', 'Yilmaz', 'Zhang', 'Moreau', 'Novak', 'Okoro', 'Price', 'Silva', 'Turner',
];

/** What people write in "What one thing could … do to be more helpful to you?", by audience and mood. */
export const COMMENTS: Record<Audience, { praise: readonly string[]; improve: readonly string[] }> = {
  reporter: {
    praise: [
      'Always back to me within the hour, with exactly what I asked for.',
      'The most useful PR contact I deal with: accurate, fast and never pushy.',
      'Set up the interview the same afternoon. It made my story.',
      'Knows what I write about and only pitches what fits my beat.',
      'Had the figures, the photos and a spokesperson ready before I asked.',
    ],
    improve: [
      'Reply before my deadline, even if it is only to say you cannot help.',
      'Send the embargoed release the night before, not an hour before.',
      'Pitch what fits my beat: I cover retail, not enterprise software.',
      'Have a spokesperson ready when you pitch; twice I waited two days.',
      'Put the key numbers in the email itself, not only in a PDF.',
      'Call back when you say you will.',
    ],
  },
  colleague: {
    praise: [
      'Great to work with; always knows where things stand.',
      'Covered for me at short notice during launch week. Thank you!',
      'Shares contacts and notes without being asked.',
    ],
    improve: [
      'Loop me in before the client call, not after.',
      'Share the coverage tracker weekly so I do not have to ask.',
      'Clearer handovers before time off, please.',
    ],
  },
  client: {
    praise: [
      'Turned the crisis statement around in under an hour. Exceptional.',
      'Proactive, honest and always one step ahead of us.',
      'The launch coverage went well beyond what we hoped for.',
    ],
    improve: [
      'I would like the coverage report every Monday without asking.',
      'Tell us sooner when a story is not going to land.',
      'Fewer status calls, more short written updates.',
    ],
  },
};

/** The domain of an outlet's reporters, e.g. "The Gadget Review" → gadgetreview.example. */
export const outletDomain = (outlet: string) => `${outlet.toLowerCase().replace(/^the /, '').replace(/[^a-z]+/g, '')}.example`;

/** The domain of a client company's people. */
export const clientDomain = (client: string) => `${client.toLowerCase().replace(/[^a-z]+/g, '')}.example`;
