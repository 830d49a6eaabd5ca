/** A problem with one input field, named by its dotted path (e.g. `throttle.reporterDays`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Base of the errors the domain raises on purpose; the HTTP layer maps each kind to a status. */
export abstract class DomainError extends Error {
  abstract readonly kind: 'validation' | 'not-found' | 'conflict' | 'unauthorized' | 'forbidden' | 'precondition';
}

export class ValidationError extends DomainError {
  readonly kind = 'validation';
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
  static field(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
  constructor(readonly entity: string) {
    super(`${entity} not found`);
  }
}

/** The request clashes with existing state (a unique field, a state that forbids the change). */
export class ConflictError extends DomainError {
  readonly kind = 'conflict';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class UnauthorizedError extends DomainError {
  readonly kind = 'unauthorized';
  constructor(message = 'A valid API key is required') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
  constructor(message: string) {
    super(message);
  }
}
