import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoConfig {
  region: string;
  /** Set for DynamoDB Local; unset on AWS. */
  endpoint?: string | undefined;
}

/** Everything a repository needs to reach the table. */
export interface Db {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  table: string;
}

export function createDb(config: DynamoConfig & { table: string }): Db {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          // DynamoDB Local accepts any credentials; fixed ones avoid a lookup of the AWS profile chain.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, doc, table: config.table };
}
