import type { DatasourceType, StorageType } from '../../shared/schemas/enums.js';
import { isSecretField } from '../../shared/secrets.js';
import { lines, optionalNumber } from './forms.js';

/**
 * How one key of a `connection_config` / `config` is edited. The zod schemas in shared/ say what is valid;
 * this says how it looks: label, input kind, hint.
 */
export interface ConfigField {
  key: string;
  label: string;
  kind: 'text' | 'number' | 'secret' | 'secret-text' | 'checkbox' | 'lines' | 'readonly' | 'select' | 'multiline';
  /** select: the values the schema accepts, with what the user reads. */
  options?: { value: string; label: string }[];
  /** Sent as absent when left empty (the schema's default or "not set" applies). */
  optional?: boolean;
  required?: boolean;
  placeholder?: string;
  hint?: string;
  initial?: string | boolean;
  /** Takes the full width of the two-column grid. */
  wide?: boolean;
  /** A native "Browse…" button where the desktop app offers one. */
  browse?: 'folder' | 'file';
  monospace?: boolean;
}

export type ConfigValues = Record<string, string | boolean>;

const DEFAULT_PORTS: Record<string, number> = { postgres: 5432, mysql: 3306, mariadb: 3306, mongodb: 27017, sqlserver: 1433, ssh: 22 };

const server = (type: DatasourceType): ConfigField[] => [
  { key: 'host', label: 'Host', kind: 'text', required: true, placeholder: 'db.example.com', monospace: true },
  { key: 'port', label: 'Port', kind: 'number', optional: true, initial: String(DEFAULT_PORTS[type]) },
  ...(type === 'postgres' || type === 'mysql' || type === 'mariadb'
    ? [
        {
          key: 'all_databases',
          label: 'Every database on this server',
          kind: 'checkbox',
          initial: false,
          wide: true,
          hint: 'Off: one database. On: every database the patterns below pick, each backed up on its own, with the roles and grants.',
        } as ConfigField,
        {
          key: 'database',
          label: 'Database',
          kind: 'text',
          optional: true,
          placeholder: type === 'postgres' ? 'postgres' : 'app',
          hint: 'For every database: leave empty (the app connects to the server’s own).',
        } as ConfigField,
        {
          key: 'include',
          label: 'Include databases',
          kind: 'lines',
          optional: true,
          placeholder: 'sales_*',
          hint: 'Every database: one glob per line; empty: all.',
        } as ConfigField,
        {
          key: 'exclude',
          label: 'Exclude databases',
          kind: 'lines',
          optional: true,
          placeholder: '*_test',
          hint: 'System databases are left out unless named.',
        } as ConfigField,
      ]
    : [{ key: 'database', label: 'Database', kind: 'text', required: true, placeholder: 'app' } as ConfigField]),
  { key: 'username', label: 'Username', kind: 'text', required: true },
  { key: 'password', label: 'Password', kind: 'secret' },
  ...(type === 'mongodb'
    ? [
        {
          key: 'auth_database',
          label: 'Authentication database',
          kind: 'text',
          optional: true,
          placeholder: 'admin',
          hint: 'Where the user is defined; usually admin.',
        } as ConfigField,
      ]
    : []),
  ...(type === 'postgres' || type === 'mysql' || type === 'mariadb'
    ? [
        {
          key: 'ssl_mode',
          label: 'SSL/TLS',
          kind: 'select',
          initial: 'disable',
          options: [
            { value: 'disable', label: 'Off' },
            { value: 'require', label: 'Encrypt, do not check the certificate' },
            { value: 'verify-ca', label: 'Encrypt, check the CA' },
            { value: 'verify-full', label: 'Encrypt, check the CA and the host name' },
          ],
          hint: 'Checking the certificate stops a machine in between from reading the data and the password.',
        } as ConfigField,
        {
          key: 'ssl_ca',
          label: 'CA certificate',
          kind: 'multiline',
          optional: true,
          wide: true,
          monospace: true,
          placeholder: '-----BEGIN CERTIFICATE-----',
          hint: 'PEM of the CA that signed the server certificate, for the check modes. Empty: the system CAs.',
        } as ConfigField,
      ]
    : [{ key: 'ssl_enabled', label: 'Use SSL/TLS', kind: 'checkbox', initial: false, hint: 'Encrypt the connection to the server.' } as ConfigField]),
  ...(type === 'sqlserver'
    ? [
        {
          key: 'trust_server_certificate',
          label: 'Trust the server certificate',
          kind: 'checkbox',
          initial: false,
          hint: 'Accept a self-signed certificate.',
        } as ConfigField,
      ]
    : []),
];

export const DATASOURCE_FIELDS: Record<DatasourceType, ConfigField[]> = {
  postgres: server('postgres'),
  mysql: server('mysql'),
  mariadb: server('mariadb'),
  mongodb: server('mongodb'),
  sqlserver: server('sqlserver'),
  sqlite: [
    {
      key: 'file_path',
      label: 'Database file',
      kind: 'text',
      required: true,
      wide: true,
      browse: 'file',
      placeholder: '/var/lib/app/data.db',
      monospace: true,
    },
  ],
  files: [
    { key: 'source_path', label: 'Source folder', kind: 'text', required: true, wide: true, browse: 'folder', placeholder: '/srv/uploads', monospace: true },
    { key: 'include_patterns', label: 'Include patterns', kind: 'lines', placeholder: '**/*.pdf', hint: 'One glob per line. Empty includes everything.' },
    { key: 'exclude_patterns', label: 'Exclude patterns', kind: 'lines', placeholder: 'node_modules/**\n*.tmp', hint: 'One glob per line.' },
  ],
};

const prefix: ConfigField = {
  key: 'prefix',
  label: 'Prefix',
  kind: 'text',
  optional: true,
  placeholder: 'dataguardian/',
  hint: 'Folder inside the bucket.',
  monospace: true,
};

export const STORAGE_FIELDS: Record<StorageType, ConfigField[]> = {
  local: [
    {
      key: 'path',
      label: 'Folder',
      kind: 'text',
      required: true,
      wide: true,
      browse: 'folder',
      placeholder: '/mnt/backups',
      monospace: true,
      hint: 'An absolute path on this machine.',
    },
    { key: 'max_size_gb', label: 'Size limit (GB)', kind: 'number', optional: true, hint: 'Optional. The storage counts as full past this size.' },
  ],
  ssh: [
    { key: 'host', label: 'Host', kind: 'text', required: true, placeholder: 'backup.example.com', monospace: true },
    { key: 'port', label: 'Port', kind: 'number', optional: true, initial: '22' },
    { key: 'username', label: 'Username', kind: 'text', required: true },
    { key: 'remote_path', label: 'Remote folder', kind: 'text', required: true, placeholder: '/home/backup/dataguardian', monospace: true },
    { key: 'password', label: 'Password', kind: 'secret', hint: 'Or use a private key below.' },
    { key: 'passphrase', label: 'Key passphrase', kind: 'secret', hint: 'Only for an encrypted private key.' },
    { key: 'private_key', label: 'Private key', kind: 'secret-text', wide: true, placeholder: '-----BEGIN OPENSSH PRIVATE KEY-----', monospace: true },
    {
      key: 'host_key_fingerprint',
      label: 'Host key fingerprint',
      kind: 'readonly',
      wide: true,
      hint: 'Remembered on the first connection; a different key is refused.',
    },
  ],
  s3: [
    { key: 'bucket', label: 'Bucket', kind: 'text', required: true },
    { key: 'region', label: 'Region', kind: 'text', optional: true, initial: 'us-east-1' },
    { key: 'access_key_id', label: 'Access key ID', kind: 'text', required: true, monospace: true },
    { key: 'secret_access_key', label: 'Secret access key', kind: 'secret' },
    {
      key: 'endpoint',
      label: 'Endpoint',
      kind: 'text',
      optional: true,
      placeholder: 'https://s3.example.com',
      hint: 'Leave empty for Amazon S3.',
      monospace: true,
    },
    { key: 'storage_class', label: 'Storage class', kind: 'text', optional: true, placeholder: 'STANDARD_IA' },
    prefix,
    { key: 'force_path_style', label: 'Path-style URLs', kind: 'checkbox', initial: false, hint: 'Needed by most S3-compatible servers.' },
  ],
  minio: [
    { key: 'endpoint', label: 'Endpoint', kind: 'text', required: true, placeholder: 'minio.local:9000', monospace: true },
    { key: 'bucket', label: 'Bucket', kind: 'text', required: true },
    { key: 'access_key', label: 'Access key', kind: 'text', required: true, monospace: true },
    { key: 'secret_key', label: 'Secret key', kind: 'secret' },
    { key: 'region', label: 'Region', kind: 'text', optional: true, initial: 'us-east-1' },
    prefix,
    { key: 'use_ssl', label: 'Use HTTPS', kind: 'checkbox', initial: false },
  ],
  backblaze: [
    { key: 'bucket_name', label: 'Bucket name', kind: 'text', required: true },
    { key: 'bucket_id', label: 'Bucket ID', kind: 'text', optional: true, monospace: true },
    { key: 'application_key_id', label: 'Application key ID', kind: 'text', required: true, monospace: true },
    { key: 'application_key', label: 'Application key', kind: 'secret' },
    {
      key: 'endpoint',
      label: 'Endpoint',
      kind: 'text',
      optional: true,
      placeholder: 'https://s3.us-west-004.backblazeb2.com',
      hint: 'Found automatically when empty.',
      monospace: true,
    },
    { key: 'region', label: 'Region', kind: 'text', optional: true, placeholder: 'us-west-004' },
    prefix,
  ],
};

/** A fresh form's values; fields shared by two types (host, username…) keep what was typed. */
export function initialValues(fields: ConfigField[], keep: ConfigValues = {}, previousFields: ConfigField[] = []): ConfigValues {
  const out: ConfigValues = {};
  for (const f of fields) {
    const before = previousFields.find((p) => p.key === f.key);
    const untouchedDefault = before && keep[f.key] === before.initial;
    if (f.key in keep && before && !untouchedDefault) out[f.key] = keep[f.key]!;
    else out[f.key] = f.initial ?? (f.kind === 'checkbox' ? false : '');
  }
  return out;
}

/** A stored (masked) config as form values; secrets start empty, which keeps the stored one. */
export function valuesFromConfig(fields: ConfigField[], config: Record<string, unknown>): ConfigValues {
  const out: ConfigValues = {};
  for (const f of fields) {
    const v = config[f.key];
    if (f.kind === 'checkbox') out[f.key] = v === true;
    else if (f.kind === 'lines') out[f.key] = Array.isArray(v) ? v.join('\n') : '';
    else if (f.kind === 'secret' || f.kind === 'secret-text') out[f.key] = '';
    // A config saved before the SSL modes has only ssl_enabled: shown as the mode the server reads it as.
    else if (f.key === 'ssl_mode' && typeof v !== 'string') out[f.key] = config.ssl_enabled === true ? 'require' : 'disable';
    else out[f.key] = v === undefined || v === null ? '' : String(v);
  }
  return out;
}

/** Form values as the schema's input: empty optional fields left out, numbers as numbers. */
export function configFromValues(fields: ConfigField[], values: ConfigValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.key];
    if (f.kind === 'readonly') continue;
    if (f.kind === 'checkbox') out[f.key] = v === true;
    else if (f.kind === 'lines') out[f.key] = lines(String(v ?? ''));
    else if (f.kind === 'number') {
      const n = optionalNumber(String(v ?? ''));
      if (n !== undefined) out[f.key] = n;
    } else {
      const text = String(v ?? '');
      if (text === '' && (f.optional || isSecretField(f.key))) continue;
      out[f.key] = text;
    }
  }
  return out;
}

/** Whether a secret is stored for this field (the answer carries `<field>_set: true`). */
export const secretIsSet = (config: Record<string, unknown> | undefined, key: string) => config?.[`${key}_set`] === true;

export const SAVED_SECRET_PLACEHOLDER = '•••••• (saved — leave empty to keep)';
