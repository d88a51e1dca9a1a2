import { z } from 'zod';

export const uuid = z.uuid({ message: 'Must be a valid id' });
export const isoDate = z.string().describe('ISO 8601 date');
export const nonEmpty = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${what} is required` });
export const name = nonEmpty('Name').max(255, { message: 'Name is at most 255 characters' });
export const idInput = z.object({ id: uuid });

/** Port with a per-type default; accepts "5432" from a form or a query string. */
export const port = (fallback: number) =>
  z.coerce.number().int().min(1, { message: 'Port must be 1–65535' }).max(65535, { message: 'Port must be 1–65535' }).default(fallback);

/**
 * A secret in an input: a new value replaces the stored one, absent or "" keeps it.
 * Secrets never appear in outputs: each comes back as `<field>_set: boolean`.
 */
export const secretInput = z.string().optional();
