import type { z } from 'zod';

/** Codes the UI can act on. One error shape crosses every boundary. */
export const ERROR_CODES = [
  'validation_error',
  'not_found',
  'conflict',
  'busy',
  'cancelled',
  'damaged',
  /** An encrypted backup that no key at hand opens: paste the recovery key (the message names the public keys). */
  'key_required',
  'connection_failed',
  'unsupported',
  'unauthorized',
  /** Another DataGuardian process holds the data folder. */
  'already_running',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `connection_config.host`. */
  path: string;
  message: string;
}

export interface AppErrorShape {
  code: ErrorCode;
  message: string;
  issues?: FieldIssue[];
  /** Extra machine-readable facts, e.g. the health status of a failed connection test. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: FieldIssue[],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toJSON(): AppErrorShape {
    return {
      code: this.code,
      message: this.message,
      ...(this.issues ? { issues: this.issues } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function issuesFromZod(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function validationError(error: z.ZodError): AppError {
  const issues = issuesFromZod(error);
  const first = issues[0];
  const message = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'Invalid input';
  return new AppError('validation_error', message, issues);
}

export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_error: 400,
  connection_failed: 400,
  unsupported: 400,
  not_found: 404,
  /** It already exists, or something still uses it. */
  conflict: 409,
  /** The same work is already queued or running: wait for it, or cancel it. */
  busy: 409,
  /** Stopped by the user (or by DataGuardian stopping). */
  cancelled: 409,
  /** A file on storage does not match its SHA-256: the copy cannot be trusted. */
  damaged: 422,
  /** The backup is encrypted and no key given (nor the app's) opens it. */
  key_required: 400,
  unauthorized: 401,
  already_running: 409,
  internal: 500,
};

export type Result<T> = { ok: true; data: T } | { ok: false; error: AppErrorShape };
