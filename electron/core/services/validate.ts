import type { FindOptionsWhere, Repository } from 'typeorm';
import type { z } from 'zod';
import { AppError, issuesFromZod } from '../../../shared/errors.js';
import { changedIdentity, mergeSecrets, untypedSecrets, type SecretField } from '../../../shared/secrets.js';
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

export interface ResolvedConfig<T> {
  config: T;
  /** Stored secrets left out because the config now points at another server or user. */
  withheld: SecretField[];
}

/**
 * A config from a form, completed with the stored secrets the form did not repeat, then checked.
 * A stored secret only follows while the server and user stay the same: once one of the type's
 * identity fields (host, port, user, endpoint, bucket, key id) changes, it is left out, so a saved
 * password is never sent to a server it was not typed for.
 */
export function resolveConfig<S extends z.ZodType>(
  secrets: SecretBox,
  schema: S,
  type: string,
  incoming: Record<string, unknown>,
  storedSealed: Record<string, unknown> | undefined,
  at: string,
): ResolvedConfig<z.output<S>> {
  const typed = parseAt(schema, mergeSecrets(incoming, undefined), at);
  if (!storedSealed) return { config: typed, withheld: [] };
  const stored = secrets.openConfig(storedSealed);
  if (changedIdentity(type, typed as Record<string, unknown>, stored).length > 0) {
    // The host key remembered on first use belongs to the old server too: the new one is trusted afresh.
    const { host_key_fingerprint: _forgotten, ...forNewHost } = typed as Record<string, unknown>;
    return { config: parseAt(schema, forNewHost, at), withheld: untypedSecrets(incoming, stored) };
  }
  return { config: parseAt(schema, mergeSecrets(incoming, stored), at), withheld: [] };
}

const SECRET_NAMES: Record<SecretField, string> = {
  password: 'password',
  private_key: 'private key',
  passphrase: 'key passphrase',
  secret_access_key: 'secret access key',
  secret_key: 'secret key',
  application_key: 'application key',
};

/** A test's message, plus (when stored secrets were withheld) which to type again, and why. */
export function withRetypeHint(message: string, withheld: readonly SecretField[]): string {
  if (withheld.length === 0) return message;
  const names = withheld.map((f) => SECRET_NAMES[f]).join(' and ');
  return `${message.replace(/[.\s]+$/, '')}. The saved ${names} ${withheld.length > 1 ? 'are' : 'is'} not sent to a new host, port or user: type ${withheld.length > 1 ? 'them' : 'it'} again.`;
}

/** A failed connection test refuses the save (unless "Save anyway"), and carries the test for the form to show. */
export function refuseFailedTest(result: { message: string }, details: Record<string, unknown>): never {
  throw new AppError('connection_failed', result.message, undefined, details);
}
