import type { z } from 'zod';
import { AppError, issuesFromZod } from '../../../shared/errors.js';

/** Parses a nested part of an input (e.g. an edited `connection_config`) and reports issues under its path. */
export function parseAt<S extends z.ZodType>(schema: S, value: unknown, at: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = issuesFromZod(parsed.error).map((i) => ({ ...i, path: i.path ? `${at}.${i.path}` : at }));
  throw new AppError('validation_error', `${issues[0]?.path}: ${issues[0]?.message}`, issues);
}

export function notFound(what: string, id: string): AppError {
  return new AppError('not_found', `${what} ${id} does not exist (it may have been deleted)`);
}
