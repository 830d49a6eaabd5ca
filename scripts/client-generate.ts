import { clientFiles, openApiDocument, writeClientFiles } from '../packages/client/src/generate';

// `npm run client:generate`: writes packages/client/openapi.json and src/schema.d.ts from the app.
writeClientFiles(await clientFiles(await openApiDocument()));
console.log('Wrote packages/client/openapi.json and packages/client/src/schema.d.ts');
process.exit(0);
