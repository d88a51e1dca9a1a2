/** Fields of `connection_config` / `config` that hold secrets: encrypted at rest, never in an answer or a log. */
export const SECRET_FIELDS = ['password', 'private_key', 'passphrase', 'secret_access_key', 'secret_key', 'application_key'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

export const isSecretField = (key: string): key is SecretField => (SECRET_FIELDS as readonly string[]).includes(key);

/** What an answer carries instead of a secret: `<field>_set: true` when one is stored. */
export function maskSecrets(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (isSecretField(key)) out[`${key}_set`] = typeof value === 'string' && value.length > 0;
    else out[key] = value;
  }
  return out;
}

/**
 * An update's secrets: a new non-empty value replaces, absent or "" keeps the stored one,
 * null clears it. Whether the stored ones apply at all is the caller's call: they do not once the
 * config points at another server (`changedIdentity`).
 */
export function mergeSecrets(incoming: Record<string, unknown>, stored: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...incoming };
  for (const key of SECRET_FIELDS) {
    const value = incoming[key];
    if (value === null) delete out[key];
    else if ((value === undefined || value === '') && stored?.[key]) out[key] = stored[key];
    else if (value === '') delete out[key];
  }
  return out;
}

/**
 * The fields that say which server a config talks to, and as whom. A stored secret is only ever
 * sent to the server it was typed for: change one of these without typing the secret again and the
 * stored one is dropped. A type without secrets (sqlite, files, local) has none.
 */
export const IDENTITY_FIELDS: Readonly<Record<string, readonly string[]>> = {
  postgres: ['host', 'port', 'username'],
  mysql: ['host', 'port', 'username'],
  mariadb: ['host', 'port', 'username'],
  mongodb: ['host', 'port', 'username'],
  sqlserver: ['host', 'port', 'username'],
  ssh: ['host', 'port', 'username'],
  s3: ['endpoint', 'bucket', 'access_key_id'],
  minio: ['endpoint', 'bucket', 'access_key'],
  backblaze: ['endpoint', 'bucket_name', 'application_key_id'],
  // The SMTP server of e-mail alerts (Settings).
  smtp: ['host', 'port', 'username'],
};

// A form sends "5432" where the stored config has 5432, and may pad a host with spaces.
const comparable = (value: unknown): string => (value === undefined || value === null ? '' : String(value).trim());

/** The identity fields of `type` whose value in `edited` differs from `saved`. */
export function changedIdentity(type: string, edited: Record<string, unknown>, saved: Record<string, unknown>): string[] {
  return (IDENTITY_FIELDS[type] ?? []).filter((field) => comparable(edited[field]) !== comparable(saved[field]));
}

/** The secrets stored in `saved` that `incoming` does not type again (absent or ""), and does not clear (null). */
export function untypedSecrets(incoming: Record<string, unknown>, saved: Record<string, unknown>): SecretField[] {
  return SECRET_FIELDS.filter((key) => (incoming[key] === undefined || incoming[key] === '') && typeof saved[key] === 'string' && saved[key] !== '');
}

/**
 * For a form editing a saved config: the secrets it shows as saved but that will not be sent, because
 * an identity field was changed and the secret was not typed again. `saved` is the masked config.
 */
export function secretsToRetype(type: string, edited: Record<string, unknown>, saved: Record<string, unknown> | undefined): SecretField[] {
  if (!saved || changedIdentity(type, edited, saved).length === 0) return [];
  return SECRET_FIELDS.filter((key) => saved[`${key}_set`] === true && !edited[key]);
}
