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
 * null clears it.
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
