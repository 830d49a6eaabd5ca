import { describe, expect, it } from 'vitest';
import { errorFields } from './logger';

describe('errorFields', () => {
  it('keeps the class and message of an error, masking addresses and API keys it may quote', () => {
    const error = new TypeError('a pro with "Jane <jane.doe@acme.example>" exists; key rpk_abc-DEF_123 refused');
    expect(errorFields(error)).toEqual({ error: { name: 'TypeError', message: 'a pro with "Jane <[redacted]>" exists; key [redacted] refused' } });
    expect(errorFields('plain')).toEqual({ error: { name: 'Error', message: 'plain' } });
  });
});
