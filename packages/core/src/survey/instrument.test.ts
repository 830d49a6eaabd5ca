import { describe, expect, it } from 'vitest';
import { AUDIENCE_DIMENSIONS, word } from './instrument';

describe('the instrument', () => {
  it('puts the pro name in the wording literally, even when it looks like a replacement pattern', () => {
    expect(word('responsiveness', "$& $' Co")).toBe("When you needed something from $& $' Co, how responsive were they?");
    expect(word('quoteConsent', 'Jane')).toBe("May Jane's team quote your comment, without your name?");
  });

  it('asks each audience its three dimensions from the design', () => {
    expect(AUDIENCE_DIMENSIONS).toEqual({
      reporter: ['listening', 'relevance', 'followThrough'],
      colleague: ['listening', 'anticipation', 'collaboration'],
      client: ['anticipation', 'clarity', 'extraMile'],
    });
  });
});
