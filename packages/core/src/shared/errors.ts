/** A problem with one input field, named by its dotted path (e.g. `throttle.reporterDays`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Base of the errors the domain raises on purpose; the HTTP layer maps each kind to a status. */
export abstract class DomainError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

export class ValidationError extends DomainError {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
  static field(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

export class NotFoundError extends DomainError {
  constructor(readonly entity: string) {
    super(`${entity} not found`);
  }
}

/** The request clashes with existing state (a unique field, a state that forbids the change). */
export class ConflictError extends DomainError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'A valid API key is required') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(message);
  }
}

/** Too many requests of one subject in its window (`limits/rate-limit.ts`): a 429 with Retry-After. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`${message}; try again in ${retryAfterSeconds} s`);
  }
}
