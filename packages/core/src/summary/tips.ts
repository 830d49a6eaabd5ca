import type { Dimension } from '../survey/instrument';
import type { Tip } from './model';

/**
 * The tips library: concrete things a PR pro can do next week to be more responsive to the
 * reporters, colleagues and clients they serve, per dimension of the instrument. Every tip comes
 * from one of the seed articles in docs/seeds (the comment above it quotes the passage, and
 * `source` names the file), turned from a principle into an action someone could check they did.
 *
 * Ids are stable (`<dimension>.<slug>`): the summary job stores the ids it sent, so the next
 * period's tips differ. Order matters: `chooseTips` walks each list in order, so the first tips of a
 * dimension are the ones a pro sees first.
 */

/** "Customer Service Tips for PR Pros" (Mickie Kennedy, eReleases): listen, anticipate, phrase positively, extra mile, ask for feedback. */
const KENNEDY = '000_a816075977959c6a.txt';
/** "4 Reasons #PR Pros Need Customer Service Skills" (Corina Manea): their shoes, client first, best experience, under-promise. */
const MANEA = '001_b6875e0a460588be.txt';
/** "How is Customer Service anything like Public Relations?": purpose, listening, problem solving. */
const CSR = '002_31579554534fac37.txt';
/** "Public Relations: Customer Service Experts" (Trevor Campbell): PR solves what others leave unsolved. */
const CAMPBELL = '003_51fab1cc40c4245c.txt';
/** "PR pros, want more press? Talk to your customer service team" (Peter Shankman): front line, be the bridge. */
const SHANKMAN = '004_71c9ae91942b6956.txt';

/** Every seed file a tip may cite (the test checks each exists). */
export const TIP_SOURCES = [KENNEDY, MANEA, CSR, CAMPBELL, SHANKMAN] as const;

const tip = (dimension: Dimension, slug: string, source: string, text: string): Tip => ({
  id: `${dimension}.${slug}`,
  dimension,
  text,
  source,
});

export const TIPS: Record<Dimension, Tip[]> = {
  listening: [
    // 000 "Be a Good Listener": "make sure you understand the problem ... before proposing a solution."
    tip(
      'listening',
      'restate-first',
      KENNEDY,
      'Before you propose anything, restate the request in one sentence ("So you need X, by Y, for Z") and wait for a yes. Put that sentence at the top of your first reply.',
    ),
    // 000 "Be a Good Listener": customer service pros "must first identify their customer's needs", not be "constantly interrupting their customer or assuming they know what the problem is."
    tip(
      'listening',
      'ask-the-problem',
      KENNEDY,
      'On the first call about a new brief, ask what problem it has to solve (low sales? morale? public perception?) and hold back your own idea until they have finished talking.',
    ),
    // 002 "Listening": "If a customer is angry or frustrated listening is the best way to understand the customer and solve issues."
    tip(
      'listening',
      'frustrated-words',
      CSR,
      'When someone is frustrated, let them finish, note their exact words, and answer that point first in your reply, before anything you wanted to say.',
    ),
    // 001 "Put yourself in their shoes": "Learn about your client's industry and try to think like them, see things through their eyes."
    tip(
      'listening',
      'learn-their-industry',
      MANEA,
      "Block 30 minutes a week to read your client's trade press and their last results, so you hear their problems in their own terms.",
    ),
    // 000 "Ask for Feedback": "Where appropriate, ask for feedback on your own performance."
    tip(
      'listening',
      'ask-one-question',
      KENNEDY,
      'At the end of each project, ask each contact one question: "What could I have done to make this easier for you?" Write the answer down and act on one of them.',
    ),
  ],

  anticipation: [
    // 000 "Identify and Anticipate Needs": "if a customer has called three times about a broken toaster, they just might benefit from a warranty plan."
    tip(
      'anticipation',
      'second-ask-standing',
      KENNEDY,
      'When someone asks you for the same thing twice (a coverage report, a spokesperson slot, the latest figures), make it a standing delivery and send it before they ask a third time.',
    ),
    // 000 "Identify and Anticipate Needs": "anticipate ways you can head them off at the pass."
    tip(
      'anticipation',
      'launch-kit',
      KENNEDY,
      'Before each announcement, write down the five questions reporters will ask and have the answers, a spokesperson\'s free times and the approved images in one folder, ready to send.',
    ),
    // 004: "make it mandatory that one person from customer service be put on the PR team ... you're going to hear about the problem ... long before" it is in an article.
    tip(
      'anticipation',
      'front-line-contact',
      SHANKMAN,
      "Ask each client for one customer-service contact on the PR team and talk to them every two weeks, so you hear about a problem before a reporter does.",
    ),
    // 004: "Ask to have one person on your team be added as a bcc on every fifth inbound and outbound client customer service email."
    tip(
      'anticipation',
      'bcc-support-mail',
      SHANKMAN,
      "Ask to be copied on a sample of the client's support emails (say every fifth one) and skim them weekly for complaints that could become a story.",
    ),
    // 002 "Problem Solving": "the PR practitioners must be available in case of a crisis, even at 3 a.m. on a Sunday."
    tip(
      'anticipation',
      'out-of-hours-plan',
      CSR,
      'Agree with each client who answers out of hours and how to reach them, and share it before a crisis, not during one.',
    ),
  ],

  clarity: [
    // 000 "Phrase it Positively": "When reporters on deadline call, does your voicemail message say ... 'you can try me again in office hours?'"
    tip(
      'clarity',
      'deadline-holding-reply',
      KENNEDY,
      'Answer a reporter on deadline within the hour, even if only to say when you will have the answer and who else can help meanwhile.',
    ),
    // 000 "Phrase it Positively": the voicemail that says "try me again in office hours".
    tip(
      'clarity',
      'voicemail-out-of-office',
      KENNEDY,
      'Rewrite your voicemail and out-of-office to say when you will call back and who to reach on deadline, instead of "try me again in office hours".',
    ),
    // 000 "Phrase it Positively": "Customer service representatives phrase their communications positively, and this reassures their customers."
    tip(
      'clarity',
      'bad-news-next-step',
      KENNEDY,
      'Give bad news with the next step in the same sentence: "The CEO cannot do Tuesday; I can offer Wednesday at 10 or a written statement today."',
    ),
    // 000 "Phrase it Positively": "are your pitch meetings with the higher ups full of problems and complaints?"
    tip(
      'clarity',
      'problem-with-fix',
      KENNEDY,
      'Bring every problem to a client or leadership meeting with one recommended fix and a date, not a list of complaints.',
    ),
    // 002 "Problem Solving": "being organized, keeping a clear head, and being able to communicate to diffuse the 'bomb'."
    tip(
      'clarity',
      'three-line-update',
      CSR,
      'In a tense situation, send a three-line update: what we know, what we are doing, when you will hear from me next. Then send the next one at that time.',
    ),
  ],

  followThrough: [
    // 001 "Under promise, over deliver": "it's best to under promise and then over deliver than the other way around."
    tip(
      'followThrough',
      'promise-the-sure-time',
      MANEA,
      'Promise the time you are sure of and then beat it: if you think two hours, say "by end of day" and deliver in two.',
    ),
    // 004: "They promise to call you back ... And even though each subsequent call starts with 'Have you gotten us those ...' you never actually get the answer."
    tip(
      'followThrough',
      'log-every-promise',
      SHANKMAN,
      'Before you hang up, write every promise you made on the call ("I\'ll send the figures", "I\'ll check with legal") into your task list with a date.',
    ),
    // 004: the promised call-back that never comes, and the contract review six months later.
    tip(
      'followThrough',
      'warn-before-missing',
      SHANKMAN,
      'If you will miss a time you gave, say so before it passes, with a new time; never let a promise lapse in silence.',
    ),
    // 003: "promise to contact our clients if needed on behalf of the customers ... we would make sure the customer's problem was solved."
    tip(
      'followThrough',
      'close-the-loop',
      CAMPBELL,
      'When you pass a request on to someone else, tell the person who asked, then check a few days later that it was solved and tell them that too.',
    ),
    // 001 "Under promise, over deliver": "in our rush to serve as many clients as possible, we often forget".
    tip(
      'followThrough',
      'weekly-promise-review',
      MANEA,
      'Every Friday, read down your open promises to reporters, colleagues and clients, and either deliver, renegotiate or drop each one out loud.',
    ),
  ],

  relevance: [
    // 001 "Put yourself in their shoes": "try to think like them, see things through their eyes, so you can better understand their issues."
    tip(
      'relevance',
      'read-before-pitching',
      MANEA,
      "Before pitching a reporter, read their last five stories and say in your first line why this one fits their beat. If you cannot, don't send it.",
    ),
    // 002 "Listening": "PR practitioners need to listen to the news and social trends too to stay in the know."
    tip(
      'relevance',
      'follow-their-beat',
      CSR,
      'Keep a list of what each of your key reporters covered this month and check it before you pitch, so your story lands on what they are writing about now.',
    ),
    // 004: "If you can find happy customers, you can use them to create a story ... that you can pitch to the media."
    tip(
      'relevance',
      'real-customer-story',
      SHANKMAN,
      "Pitch with a real customer who will talk, not a product claim: ask the client's support team for customers whose problem was solved well.",
    ),
    // 000 "Go the Extra Mile": "Offer to email a fact sheet instead of making a reporter look it up."
    tip(
      'relevance',
      'checked-fact-sheet',
      KENNEDY,
      'Send a one-page fact sheet with every pitch (names, titles, figures, dates), each fact checked against its source before it goes out.',
    ),
    // 002 "Listening": "It is important to listen to the needs and expectations of the audience."
    tip(
      'relevance',
      'ask-what-they-want',
      CSR,
      'Ask each reporter you work with what they want from you and when (exclusives, data, embargoes, no calls on press day), note it, and follow it.',
    ),
  ],

  collaboration: [
    // 001: "you have external clients ... and also internal clients, aka your colleagues and boss(es). They are all your clients."
    tip(
      'collaboration',
      'internal-client',
      MANEA,
      "Treat a colleague's request like a paying client's: acknowledge it the same day and give a delivery time.",
    ),
    // 004 "Be the bridge": "when your customer service contact tells you something on which you can take action, you can go to marketing and let them know."
    tip(
      'collaboration',
      'be-the-bridge',
      SHANKMAN,
      'When one team tells you something another team should know, pass it on within a day with a suggested action, and tell the first team you did.',
    ),
    // 004 "Be the bridge": "That gives you not only something to bring in as a project-in-progress, but also makes you super-valuable".
    tip(
      'collaboration',
      'copy-on-outcomes',
      SHANKMAN,
      'Tell the colleagues who fed you a story what came of it (the coverage, the decision), so they keep feeding you.',
    ),
    // 004: "Make sure the customer service person has all your contact information, and knows that they can reach out to you anytime."
    tip(
      'collaboration',
      'reachable',
      SHANKMAN,
      'Make sure every colleague on a project has your direct number and knows they may use it when something breaks.',
    ),
    // 004: "include this person in all meetings and emails."
    tip(
      'collaboration',
      'weekly-status',
      SHANKMAN,
      'On shared projects, send a short Friday note: what is done, what is next, what you need from whom. Nobody should have to chase you for status.',
    ),
  ],

  extraMile: [
    // 000 "Go the Extra Mile": "Offer to email a fact sheet instead of making a reporter look it up."
    tip(
      'extraMile',
      'do-the-legwork',
      KENNEDY,
      'Send the fact sheet, the quote and the image with your first reply instead of making a reporter or client ask for them.',
    ),
    // 001 "Put your client first": "remembering a personal thing about your client, like his birthday, anniversary or an important event they talk to you about."
    tip(
      'extraMile',
      'personal-touch',
      MANEA,
      'Note one personal thing each client mentions (a launch, a trip, a milestone) and ask about it afterwards.',
    ),
    // 004: "keep your customer hat on at all times: Buy the products. Call the returns center."
    tip(
      'extraMile',
      'customer-hat',
      SHANKMAN,
      "Once a quarter, use your client's product as a customer would (call support, return something) and bring back one idea they did not ask for.",
    ),
    // 003: customers "found our names on a news release ... we would make sure the customer's problem was solved."
    tip(
      'extraMile',
      'solve-what-is-not-yours',
      CAMPBELL,
      "When a problem reaches you that is not your job, solve it anyway: find the right person, make the introduction and confirm it was fixed.",
    ),
    // 001 "Give them the best possible experience": "Think about how would you like to be treated if the roles were reversed."
    tip(
      'extraMile',
      'roles-reversed',
      MANEA,
      'Before you send a deliverable, read it as the client will on their phone, and fix the one thing that would annoy you in their place.',
    ),
  ],
};

/**
 * Two or three tips on a dimension for this period, none of them among `lastTipIds` (the tips
 * the pro got last period). Deterministic: it walks the dimension's list in order, starting just
 * after the last of last period's tips, so the library rotates instead of ping-ponging between
 * the same two sets. Ids of other dimensions in `lastTipIds` are ignored. When fewer than `count`
 * fresh tips remain it returns the fresh ones; only if none remain at all (which the library's
 * size rules out for real input) does it repeat, rather than send no advice.
 */
export function chooseTips(dimension: Dimension, lastTipIds: readonly string[], count: 2 | 3 = 3): Tip[] {
  const all = TIPS[dimension];
  const last = new Set(lastTipIds);
  const lastIndex = all.reduce((max, t, i) => (last.has(t.id) ? i : max), -1);
  const rotated = [...all.slice(lastIndex + 1), ...all.slice(0, lastIndex + 1)];
  const fresh = rotated.filter((t) => !last.has(t.id));
  return (fresh.length > 0 ? fresh : rotated).slice(0, count);
}
