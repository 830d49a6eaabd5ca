import { readdirSync, readFileSync } from 'node:fs';

/** Java processes running DynamoDB Local on `port` (Linux: read from /proc). */
export function dynamoDbLocalPids(port: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.some((a) => a.includes('DynamoDBLocal')) && args[args.indexOf('-port') + 1] === String(port);
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}
