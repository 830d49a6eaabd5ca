import { describe, expect, it } from 'vitest';
import { clientFiles, drift, openApiDocument, readClientFiles } from './generate';

/** CI's check that the committed client matches the API (`npm test` runs it). */
describe('the typed client is generated from the current API', () => {
  it('matches the OpenAPI document the app serves: run npm run client:generate when this fails', async () => {
    expect(drift(await clientFiles(await openApiDocument()), readClientFiles())).toBeNull();
  });

  it('reports drift when the document changes without regenerating the client', async () => {
    const changed = await openApiDocument();
    changed.components.schemas.Pro.properties.nickname = { type: 'string' };
    expect(drift(await clientFiles(changed), readClientFiles())).toBe(
      'The typed client is out of date with the API: packages/client/openapi.json and packages/client/src/schema.d.ts differ from what the OpenAPI document generates. Run npm run client:generate and commit the result.',
    );
    // A change that only the document shows (a description) is drift too.
    const described = await openApiDocument();
    described.info.description += ' More.';
    expect(drift(await clientFiles(described), readClientFiles())).toBe(
      'The typed client is out of date with the API: packages/client/openapi.json differs from what the OpenAPI document generates. Run npm run client:generate and commit the result.',
    );
  });
});
