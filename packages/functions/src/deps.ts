import { createDb, type Config, type Db } from '@rapport/core';

/** What the handlers need, built once per process (Lambda container or local runner). */
export interface Deps {
  config: Config;
  db: Db;
  now: () => Date;
}

export function createDeps(config: Config, overrides: Partial<Omit<Deps, 'config'>> = {}): Deps {
  return {
    config,
    db: overrides.db ?? createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table }),
    now: overrides.now ?? (() => new Date()),
  };
}
