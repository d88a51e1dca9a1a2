import type { FindOptionsWhere, Repository } from 'typeorm';
import type { z } from 'zod';
import { AppError, issuesFromZod } from '../../../shared/errors.js';
import { mergeSecrets } from '../../../shared/secrets.js';
import type { SecretBox } from '../kernel/secrets.js';

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

/** Loads a row by id, or answers a not_found that names what is missing. */
export function loader<T extends { id: string }>(repo: Repository<T>, what: string): (id: string) => Promise<T> {
  return async (id) => {
    const row = await repo.findOneBy({ id } as FindOptionsWhere<T>);
    if (!row) throw notFound(what, id);
    return row;
  };
}

/** A config from a form, completed with the stored secrets the form did not repeat, then checked. */
export function resolveConfig<S extends z.ZodType>(
  secrets: SecretBox,
  schema: S,
  incoming: Record<string, unknown>,
  storedSealed: Record<string, unknown> | undefined,
  at: string,
): z.output<S> {
  return parseAt(schema, mergeSecrets(incoming, storedSealed ? secrets.openConfig(storedSealed) : undefined), at);
}

/** A failed connection test refuses the save (unless "Save anyway"), and carries the test for the form to show. */
export function refuseFailedTest(result: { message: string }, details: Record<string, unknown>): never {
  throw new AppError('connection_failed', result.message, undefined, details);
}
