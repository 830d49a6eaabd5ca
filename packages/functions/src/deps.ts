import { ConfigError, createDb, type Config, type Db } from '@rapport/core';

/** What the handlers need, built once per process (Lambda container or local runner). */
export interface Deps {
  config: Config;
  db: Db;
  now: () => Date;
  /** Signs and checks the links in survey emails. */
  linkSecret: string;
}

export function createDeps(config: Config, overrides: Partial<Omit<Deps, 'config'>> = {}): Deps {
  const linkSecret = overrides.linkSecret ?? config.linkSecret;
  if (!linkSecret) throw new ConfigError('Invalid configuration: LINK_SECRET is required (at least 32 characters)');
  return {
    linkSecret,
    config,
    db: overrides.db ?? createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table }),
    now: overrides.now ?? (() => new Date()),
  };
}
