import { z } from 'zod';
import { SECRET_FIELDS } from '../secrets.js';
import { isoDate, name, nonEmpty, port, secretInput, uuid } from './common.js';
import { datasourceStatus, datasourceType, healthCheckStatus, type DatasourceType } from './enums.js';

const serverBase = (defaultPort: number) =>
  z.object({
    host: nonEmpty('Host'),
    port: port(defaultPort),
    database: nonEmpty('Database'),
    username: nonEmpty('Username'),
    password: secretInput,
  });

/** MongoDB and SQL Server: TLS on or off. */
const switchedTlsConfig = (defaultPort: number) => serverBase(defaultPort).extend({ ssl_enabled: z.boolean().default(false) });

/** As libpq names them: no TLS; TLS without checking the certificate; the certificate's CA checked; CA and host name checked. */
export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const caCertificate = z
  .string()
  .trim()
  .max(200_000, { message: 'A CA certificate is at most 200 KB' })
  .refine((v) => v === '' || /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(v), {
    message: 'Paste the CA certificate in PEM form (-----BEGIN CERTIFICATE----- …)',
  });

const databasePatterns = z
  .array(z.string().trim().min(1, { message: 'A pattern cannot be empty' }).max(255, { message: 'A pattern is at most 255 characters' }))
  .max(200)
  .optional();

/**
 * "Every database on this server" (PostgreSQL, MySQL/MariaDB): one backup per database the globs pick
 * (none or empty include: all), plus the server's roles and grants. System databases are left out unless named.
 * Absent on a one-database datasource, so its saved config reads as before.
 */
const wholeServer = {
  database: z.string().trim().max(255).default(''),
  all_databases: z.boolean().optional(),
  include: databasePatterns,
  exclude: databasePatterns,
};

/**
 * PostgreSQL and MySQL/MariaDB: an SSL mode and the CA that signs the server's certificate (empty: the
 * system's CAs). Saved configs from before the mode carry `ssl_enabled`: true reads as require, false
 * as disable.
 */
const verifiedTlsConfig = (defaultPort: number, maintenanceDatabase: string) =>
  serverBase(defaultPort)
    .extend({
      ssl_mode: z.enum(SSL_MODES, { message: `SSL mode is one of ${SSL_MODES.join(', ')}` }).optional(),
      ssl_ca: caCertificate.optional(),
      ssl_enabled: z.boolean().optional(),
      ...wholeServer,
    })
    .overwrite(({ ssl_enabled, ...c }) => ({ ...c, ssl_mode: c.ssl_mode ?? (ssl_enabled ? 'require' : 'disable') }))
    // A whole server is reached through a database every login may open; its name is only where the app connects.
    .overwrite((c) => (c.all_databases && !c.database ? { ...c, database: maintenanceDatabase } : c))
    .refine((c) => c.all_databases || c.database, { path: ['database'], message: 'Database is required' });

const patterns = z.array(z.string().trim().min(1, { message: 'A pattern cannot be empty' })).default([]);

/** The seed's `connection_config` per datasource type (database-schema.md). */
export const CONNECTION_CONFIG = {
  postgres: verifiedTlsConfig(5432, 'postgres'),
  mysql: verifiedTlsConfig(3306, 'information_schema'),
  mariadb: verifiedTlsConfig(3306, 'information_schema'),
  mongodb: switchedTlsConfig(27017).extend({
    auth_database: z.string().trim().min(1).optional(),
  }),
  sqlserver: switchedTlsConfig(1433).extend({
    trust_server_certificate: z.boolean().default(false),
  }),
  sqlite: z.object({
    file_path: nonEmpty('File path'),
  }),
  files: z.object({
    source_path: nonEmpty('Source folder'),
    include_patterns: patterns,
    exclude_patterns: patterns,
  }),
} satisfies Record<DatasourceType, z.ZodObject>;

export type ConnectionConfig<T extends DatasourceType = DatasourceType> = z.output<(typeof CONNECTION_CONFIG)[T]>;
/** PostgreSQL, MySQL and MariaDB (MongoDB and SQL Server have host, port... too, and `ssl_enabled`). */
export type ServerConnectionConfig = z.output<ReturnType<typeof verifiedTlsConfig>>;

const tags = z.array(z.string().trim().min(1).max(50)).max(30).default([]);

const datasourceBase = z.object({
  name,
  tags,
  enabled: z.boolean().default(true),
  /** Save even when the connection test fails (the form's "Save anyway"). */
  save_anyway: z.boolean().default(false),
});

const variant = <T extends DatasourceType>(type: T) => datasourceBase.extend({ type: z.literal(type), connection_config: CONNECTION_CONFIG[type] });

/** `POST /api/datasources`, as the seed writes it: `{ name, type, connection_config, tags }`. */
export const datasourceCreate = z.discriminatedUnion('type', [
  variant('postgres'),
  variant('mysql'),
  variant('mariadb'),
  variant('mongodb'),
  variant('sqlserver'),
  variant('sqlite'),
  variant('files'),
]);

/** The type never changes; a new `connection_config` is checked against the stored type's schema. */
export const datasourceUpdate = z.object({
  id: uuid,
  name: name.optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(30).optional(),
  enabled: z.boolean().optional(),
  connection_config: z.record(z.string(), z.unknown()).optional(),
  save_anyway: z.boolean().default(false),
});

/** Test a saved datasource (`id`), an unsaved form (`type` + `connection_config`), or an edited one (both). */
export const datasourceTestInput = z
  .object({
    id: uuid.optional(),
    type: datasourceType.optional(),
    connection_config: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((v) => v.id || (v.type && v.connection_config), {
    message: 'Give a datasource id, or a type and its connection_config',
  });

/** A config as it leaves the app: every secret replaced by `<field>_set`. */
export const maskedConfig = z
  .record(z.string(), z.unknown())
  .refine((c) => SECRET_FIELDS.every((k) => !(k in c)), { message: 'A secret must never leave the app' });

export const datasource = z.object({
  id: uuid,
  name: z.string(),
  type: datasourceType,
  connection_config: maskedConfig,
  status: datasourceStatus,
  last_health_check_at: isoDate.nullable(),
  enabled: z.boolean(),
  tags: z.array(z.string()),
  created_at: isoDate,
  updated_at: isoDate,
});
export type Datasource = z.output<typeof datasource>;

export const connectionTestResult = z.object({
  status: healthCheckStatus,
  ok: z.boolean(),
  latency_ms: z.number().int().nullable(),
  message: z.string(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type ConnectionTestResult = z.output<typeof connectionTestResult>;

export const healthCheck = z.object({
  id: uuid,
  datasource_id: uuid,
  checked_at: isoDate,
  status: healthCheckStatus,
  latency_ms: z.number().int().nullable(),
  error_message: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});

/** Which databases a server datasource (saved, or being edited in the form) backs up: the server's list, and what the patterns pick. */
export const serverDatabases = z.object({
  databases: z.array(
    z.object({
      name: z.string(),
      size_bytes: z.number().nullable(),
      /** picked; excluded (an exclude pattern); not_included (no include pattern); system (left out unless named). */
      reason: z.enum(['picked', 'excluded', 'not_included', 'system']),
    }),
  ),
  picked: z.number().int(),
});
export type ServerDatabases = z.output<typeof serverDatabases>;
