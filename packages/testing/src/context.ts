/** What the global setup hands to every test file through vitest's `provide` / `inject`. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local (in memory) for this test run. */
    dynamoEndpoint: string;
    /** The local SES server for this test run; `GET /store` lists the emails it received. */
    sesEndpoint: string;
    /** The table `ensureTable` created; one per run, tests isolate data by creating their own agencies. */
    tableName: string;
  }
}

export const TEST_TABLE_NAME = 'rapport-test';
