// A private MariaDB from Debian's packages, on 127.0.0.1, with its own data
// folder. --no-defaults keeps /etc/mysql's settings (shared socket, log files)
// out of it.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { removeTempDir, stopOnce, tempDir } from './cleanup.js';
import { freePort } from './ports.js';
import { Daemon, run, withPortRetry } from './process.js';

export interface MariaServer {
  host: '127.0.0.1';
  port: number;
  user: 'dg';
  password: string;
  /** Server version without the distro suffix, e.g. '10.11.14'. */
  version: string;
  /** The server's temp folder (data, config, log); removed by stop(). */
  dir: string;
  createDatabase(name: string): Promise<void>;
  /** Rows of a SELECT; an empty array for statements that return none. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(sql: string, db?: string, params?: unknown[]): Promise<Row[]>;
  stop(): Promise<void>;
}

function findBinary(names: string[], dirs = ['/usr/sbin', '/usr/bin']): string {
  for (const name of names) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  throw new Error(`MariaDB is not installed (none of ${names.join(', ')} found). Run scripts/install-test-deps.sh as root.`);
}

export function quoteMariaIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export async function startMariadb(): Promise<MariaServer> {
  return withPortRetry(startOnce);
}

async function startOnce(): Promise<MariaServer> {
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db'], ['/usr/bin', '/usr/sbin']);
  const serverBinary = findBinary(['mariadbd', 'mysqld']);
  const dir = await tempDir('dg-harness-maria-', { owner: 'mysql' });
  const dataDir = join(dir, 'data');
  const socketPath = join(dir, 'mysql.sock');
  const password = randomBytes(18).toString('hex');
  let daemon: Daemon | undefined;
  try {
    await run(installDb, [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${dataDir}`,
      // The bootstrap server's temp tables are named per pid in tmpdir; in a
      // shared /tmp, parallel installs clobber each other's.
      `--tmpdir=${dir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ]);

    const port = await freePort();
    daemon = new Daemon(
      'MariaDB',
      serverBinary,
      [
        '--no-defaults',
        '--user=mysql',
        `--datadir=${dataDir}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${socketPath}`,
        `--pid-file=${join(dir, 'mariadbd.pid')}`,
        `--tmpdir=${dir}`,
        '--skip-name-resolve',
        // Throwaway data: durability only costs test time.
        '--innodb-buffer-pool-size=64M',
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=0',
        '--sync-binlog=0',
      ],
      { logFile: join(dir, 'server.log') },
    );
    const running = daemon;

    // root has no password and is reachable only through the private socket.
    const asRoot = async <T>(work: (db: mysql.Connection) => Promise<T>): Promise<T> => {
      const connection = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: 5_000 });
      try {
        return await work(connection);
      } finally {
        await connection.end();
      }
    };
    await running.waitUntilReady(() => asRoot(async (db) => void (await db.query('SELECT 1'))));

    await asRoot(async (db) => {
      // Anonymous accounts would shadow dg@% for connections from localhost.
      const [anonymous] = await db.query<mysql.RowDataPacket[]>("SELECT Host FROM mysql.user WHERE User = ''");
      for (const { Host } of anonymous) await db.query("DROP USER ''@?", [Host]);
      for (const host of ['%', 'localhost', '127.0.0.1']) {
        await db.query('CREATE USER ?@? IDENTIFIED BY ?', ['dg', host, password]);
        await db.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', ['dg', host]);
      }
    });

    const query = async <Row extends Record<string, unknown>>(sql: string, db?: string, params?: unknown[]): Promise<Row[]> => {
      const connection = await mysql.createConnection({
        host: '127.0.0.1',
        port,
        user: 'dg',
        password,
        database: db,
        connectTimeout: 5_000,
      });
      try {
        const [rows] = await connection.query(sql, params);
        return Array.isArray(rows) ? (rows as Row[]) : [];
      } finally {
        await connection.end();
      }
    };

    // Proves the password login over TCP works, which is how the app connects.
    const [row] = await query<{ version: string }>('SELECT VERSION() AS version');
    const version = /^\d+\.\d+\.\d+/.exec(row?.version ?? '')?.[0] ?? row?.version ?? 'unknown';

    return {
      host: '127.0.0.1',
      port,
      user: 'dg',
      password,
      dir,
      version,
      createDatabase: async (name) => {
        await query(`CREATE DATABASE ${quoteMariaIdentifier(name)}`);
      },
      query,
      stop: stopOnce(async () => {
        await running.stop(30_000);
        await removeTempDir(dir);
      }),
    };
  } catch (error) {
    await daemon?.stop();
    await removeTempDir(dir);
    throw error;
  }
}
