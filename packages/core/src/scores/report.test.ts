import { describe, expect, it } from 'vitest';
import { readCounter, responseDelta, sumCounters } from './counters';
import { groupScores } from './report';

/** A counter holding these answers, as the response transactions would have counted them. */
const counterOf = (answers: { responsiveness: number; recommend?: number }[]) =>
  sumCounters(answers.map((a) => readCounter(responseDelta(null, a, true))));

describe('groupScores', () => {
  it('withholds an optional item where the total minus the other parts would give away one answer', () => {
    // k = 5. Reporters: 6 answers, 5 of them with recommend 9. Colleagues: 5 answers, one recommend 2.
    // Both groups meet k; the total's recommend (n = 6) minus the reporters' (n = 5) would be the one
    // colleague's answer, so the reporters' recommend is withheld too (the colleague's is, on its n).
    const reporters = counterOf([...Array.from({ length: 5 }, () => ({ responsiveness: 4, recommend: 9 })), { responsiveness: 5 }]);
    const colleagues = counterOf([{ responsiveness: 2, recommend: 2 }, ...Array.from({ length: 4 }, () => ({ responsiveness: 3 }))]);
    const { total, parts } = groupScores(new Map([['reporter', reporters], ['colleague', colleagues]]), 5);
    expect(total).toMatchObject({ n: 11, withheld: false, items: { recommend: { n: 6, withheld: false } } });
    expect(parts.get('reporter')).toMatchObject({ n: 6, withheld: false, items: { responsiveness: { n: 6, withheld: false }, recommend: { n: 5, withheld: true } } });
    expect(parts.get('colleague')).toMatchObject({ n: 5, withheld: false, items: { recommend: { n: 1, withheld: true } } });
    expect(JSON.stringify(parts.get('reporter'))).not.toContain('"nps"');
  });

  it('shows optional items when every part meets k on them', () => {
    const a = counterOf(Array.from({ length: 5 }, () => ({ responsiveness: 4, recommend: 9 })));
    const b = counterOf(Array.from({ length: 6 }, () => ({ responsiveness: 3, recommend: 6 })));
    const { parts } = groupScores(new Map([['a', a], ['b', b]]), 5);
    expect(parts.get('a')).toMatchObject({ items: { recommend: { n: 5, withheld: false, mean: 9 } } });
    expect(parts.get('b')).toMatchObject({ items: { recommend: { n: 6, withheld: false, mean: 6 } } });
  });
});
