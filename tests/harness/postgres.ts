// A private PostgreSQL from Debian's packages, on 127.0.0.1, with its own data
// folder; nothing of the machine's own cluster is touched.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { removeTempDir, stopOnce, tempDir } from './cleanup.js';
import { osUser } from './os-user.js';
import { freePort } from './ports.js';
import { Daemon, run, withPortRetry } from './process.js';

export interface PgServer {
  host: '127.0.0.1';
  port: number;
  user: 'dg';
  password: string;
  /** Server version without the distro suffix, e.g. '15.14'. */
  version: string;
  /** The server's temp folder (data, config, log); removed by stop(). */
  dir: string;
  /** The server's bin folder (pg_dump, pg_restore, psql of the same version). */
  binDir: string;
  url(db?: string): string;
  createDatabase(name: string): Promise<void>;
  query<Row extends Record<string, unknown> = Record<string, unknown>>(sql: string, db?: string, params?: unknown[]): Promise<Row[]>;
  /** Stops the server as a crash or a reboot would, keeping its data and port (a health test's outage). */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same port and data; resolves once it accepts connections. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The bin folder of the newest PostgreSQL installed from Debian's packages. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (!newest) {
    throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/postgres). Run scripts/install-test-deps.sh as root.');
  }
  return join(root, newest, 'bin');
}

export function quotePgIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function startPostgres(): Promise<PgServer> {
  return withPortRetry(startOnce);
}

async function startOnce(): Promise<PgServer> {
  const binDir = postgresBinDir();
  const postgresUser = osUser('postgres');
  const dir = await tempDir('dg-harness-pg-', { owner: 'postgres' });
  const dataDir = join(dir, 'data');
  const password = randomBytes(18).toString('hex');
  let daemon: Daemon | undefined;
  try {
    // initdb reads the superuser password from a file so it never shows in `ps`.
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    chownSync(pwfile, postgresUser.uid, postgresUser.gid);
    await run(
      join(binDir, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'dg',
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      { user: 'postgres' },
    );
    await rm(pwfile, { force: true });

    const port = await freePort();
    const spawnServer = (): Daemon =>
      new Daemon(
        'PostgreSQL',
        join(binDir, 'postgres'),
        [
          '-D',
          dataDir,
          '-p',
          String(port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `unix_socket_directories=${dir}`,
          // Throwaway data: durability only costs test time.
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'shared_buffers=32MB',
          '-c',
          'logging_collector=off',
        ],
        { user: 'postgres', logFile: join(dir, 'server.log'), stopSignal: 'SIGINT', exitSignal: 'SIGQUIT' },
      );
    daemon = spawnServer();

    const connect = (database: string): pg.Client => new pg.Client({ host: '127.0.0.1', port, user: 'dg', password, database, connectionTimeoutMillis: 5_000 });
    const query = async <Row extends Record<string, unknown>>(sql: string, db = 'postgres', params?: unknown[]): Promise<Row[]> => {
      const client = connect(db);
      await client.connect();
      try {
        const result = await client.query<Row>(sql, params);
        return result.rows;
      } finally {
        await client.end();
      }
    };

    let running = daemon;
    const ready = () => running.waitUntilReady(async () => await query('SELECT 1').then(() => undefined));
    await ready();
    const [row] = await query<{ server_version: string }>('SHOW server_version');
    const version = row?.server_version.split(' ')[0] ?? 'unknown';

    return {
      host: '127.0.0.1',
      port,
      user: 'dg',
      password,
      dir,
      version,
      binDir,
      url: (db = 'postgres') => `postgresql://dg:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`,
      createDatabase: async (name) => {
        await query(`CREATE DATABASE ${quotePgIdentifier(name)}`);
      },
      query,
      halt: () => running.stop(),
      resume: async () => {
        if (running.running) return;
        running = spawnServer();
        await ready();
      },
      stop: stopOnce(async () => {
        await running.stop();
        await removeTempDir(dir);
      }),
    };
  } catch (error) {
    await daemon?.stop();
    await removeTempDir(dir);
    throw error;
  }
}
