import { useMemo, useState } from 'react';
import type { z } from 'zod';
import type { FieldIssue } from '../../shared/errors.js';
import { ApiError } from './api.js';

/** Field path (`connection_config.host`) → the first message for it. */
type FieldErrors = Record<string, string>;

function zodErrors(error: z.ZodError | undefined): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error?.issues ?? []) {
    const path = issue.path.map(String).join('.');
    out[path] ??= issue.message;
  }
  return out;
}

function issueErrors(issues: FieldIssue[] | undefined): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues ?? []) out[issue.path] ??= issue.message;
  return out;
}

/**
 * Inline validation with the shared zod schema: an error shows once its field was left (or the form was
 * submitted); a server issue shows on its field until that field is edited.
 */
export function useValidation<S extends z.ZodType>(schema: S, payload: unknown) {
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [server, setServer] = useState<FieldErrors>({});

  const parsed = useMemo(() => schema.safeParse(payload), [schema, payload]);
  const local = useMemo(() => (parsed.success ? {} : zodErrors(parsed.error)), [parsed]);

  function errorFor(path: string): string | undefined {
    if (server[path]) return server[path];
    return submitted || touched.has(path) ? local[path] : undefined;
  }

  return {
    parsed,
    errorFor,
    /** Issues without a field of their own in the form (e.g. a refinement across fields). */
    formErrors: (known: string[]) =>
      Object.entries({ ...(submitted ? local : {}), ...server })
        .filter(([path]) => !known.includes(path))
        .map(([path, message]) => (path ? `${path}: ${message}` : message)),
    touch(path: string) {
      setTouched((t) => (t.has(path) ? t : new Set(t).add(path)));
    },
    /** A field was edited: its server error is stale now. */
    edited(path: string) {
      setServer((s) => {
        if (!(path in s)) return s;
        const { [path]: _gone, ...rest } = s;
        return rest;
      });
    },
    submit() {
      setSubmitted(true);
    },
    serverError(e: unknown) {
      if (e instanceof ApiError && e.issues?.length) setServer(issueErrors(e.issues));
    },
  };
}

export type Validation = ReturnType<typeof useValidation>;

/** One item per line, blanks dropped. */
export const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** '' → undefined, anything else a number (or NaN, which the schema then names). */
export const optionalNumber = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text));
