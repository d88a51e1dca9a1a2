// A private OpenSSH sshd on 127.0.0.1 with its own config and host key, for
// the SFTP storage. It logs in the real OS user `dgtest`, by password or key.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'ssh2';
import { removeTempDir, stopOnce, tempDir } from './cleanup.js';
import { findOsUser, osUser } from './os-user.js';
import { freePort } from './ports.js';
import { Daemon, run, withPortRetry } from './process.js';

export interface SshServer {
  host: '127.0.0.1';
  port: number;
  username: 'dgtest';
  password: string;
  /** Client private key, ed25519 in OpenSSH format, already authorized. */
  privateKey: string;
  /** A fresh empty folder that dgtest owns; absolute path on the server. */
  remoteDir: string;
  /** The server's temp folder (data, config, log); removed by stop(). */
  dir: string;
  /** As `ssh-keygen -lf` prints it: 'SHA256:<base64 without padding>'. */
  hostKeyFingerprint: string;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const USERNAME = 'dgtest';
// Every test process that starts an sshd shares the one OS user, so they must
// agree on its password; it lives here, readable by root only.
const PASSWORD_FILE = '/var/tmp/dg-harness/dgtest-password';

export async function startSshd(): Promise<SshServer> {
  if (!existsSync(SSHD)) {
    throw new Error('OpenSSH server is not installed (no /usr/sbin/sshd). Run scripts/install-test-deps.sh as root.');
  }
  // sshd refuses to start without its privilege separation folder.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const password = await prepareTestUser();
  return withPortRetry(() => startOnce(password));
}

async function prepareTestUser(): Promise<string> {
  if (!findOsUser(USERNAME)) {
    try {
      await run('useradd', ['--create-home', '--shell', '/bin/bash', USERNAME]);
    } catch (error) {
      // Another test process may have created it at the same moment.
      if (!findOsUser(USERNAME)) throw error;
    }
  }
  const password = sharedPassword();
  // chpasswd also unlocks the account useradd left without a password; the
  // password goes through stdin, never argv.
  for (let attempt = 1; ; attempt++) {
    try {
      await run('chpasswd', [], { input: `${USERNAME}:${password}\n` });
      return password;
    } catch (error) {
      // /etc/shadow is locked while another process changes it.
      if (attempt >= 20) throw error;
      await sleep(100 * attempt);
    }
  }
}

function sharedPassword(): string {
  mkdirSync('/var/tmp/dg-harness', { recursive: true, mode: 0o700 });
  try {
    writeFileSync(PASSWORD_FILE, randomBytes(18).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(PASSWORD_FILE, 'utf8').trim();
}

async function startOnce(password: string): Promise<SshServer> {
  const user = osUser(USERNAME);
  // sshd reads authorized_keys as dgtest, so the folder must be traversable.
  const dir = await tempDir('dg-harness-sshd-', { mode: 0o755 });
  let daemon: Daemon | undefined;
  try {
    const hostKey = join(dir, 'host_ed25519_key');
    const clientKey = join(dir, 'client_ed25519_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dg-harness-host', '-f', hostKey]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dg-harness-client', '-f', clientKey]);
    const authorizedKeys = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o644 });
    const hostKeyFingerprint = (await run('ssh-keygen', ['-lf', `${hostKey}.pub`])).split(' ')[1] ?? '';

    const remoteDir = join(dir, 'remote');
    mkdirSync(remoteDir, { mode: 0o700 });
    chownSync(remoteDir, user.uid, user.gid);

    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        `AllowUsers ${USERNAME}`,
        'PasswordAuthentication yes',
        'PubkeyAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        'UsePAM no',
        // The temp folders are under /tmp, which is world-writable.
        'StrictModes no',
        'UseDNS no',
        'PrintMotd no',
        'X11Forwarding no',
        'MaxStartups 100',
        'Subsystem sftp internal-sftp',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );

    daemon = new Daemon('sshd', SSHD, ['-D', '-e', '-f', config], { logFile: join(dir, 'sshd.log') });
    const running = daemon;
    await running.waitUntilReady(() => login(port, password));
    const privateKey = readFileSync(clientKey, 'utf8');

    return {
      host: '127.0.0.1',
      port,
      username: USERNAME,
      password,
      dir,
      privateKey,
      remoteDir,
      hostKeyFingerprint,
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

function login(port: number, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .once('ready', () => {
        client.end();
        resolve();
      })
      .once('error', reject)
      .connect({ host: '127.0.0.1', port, username: USERNAME, password, readyTimeout: 5_000 });
  });
}
