import { writeOpenApiDocument } from '@rapport/functions';
import { clientFiles, openApiDocument, writeClientFiles } from '../packages/client/src/generate';

// `npm run client:generate`: writes packages/client/openapi.json and src/schema.d.ts from the routes,
// and the document the app serves (as `npm run build` does).
writeClientFiles(await clientFiles(await openApiDocument()));
await writeOpenApiDocument();
console.log('Wrote packages/client/openapi.json, packages/client/src/schema.d.ts and packages/functions/src/api/openapi.json');
process.exit(0);
