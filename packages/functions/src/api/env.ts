import type { Principal } from '@rapport/core';

/** Hono environment of the API: what middleware puts on the context. */
export interface ApiEnv {
  Variables: { principal: Principal };
}
