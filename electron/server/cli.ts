import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/errors.js';
import { startCore } from '../core/app.js';
import { startHttpServer } from './http.js';
import { loadApiToken } from './token.js';

/** `npm run serve`: the headless app, serving the same UI to a browser. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.DG_PORT ?? '5151' },
    host: { type: 'string', default: process.env.DG_HOST ?? '127.0.0.1' },
    'data-dir': { type: 'string' },
    'allowed-host': { type: 'string', multiple: true, default: [] },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run serve -- [--port 5151] [--host 127.0.0.1] [--data-dir DIR] [--allowed-host NAME]... [--tls-cert FILE --tls-key FILE]
  --allowed-host  another name the server answers to (e.g. nas.local); loopback and the bound address always are
  --tls-cert/--tls-key  PEM files: serve HTTPS (required, with DG_PASSWORD, for a non-loopback --host)
Environment: DG_DATA_DIR (data directory), DATABASE_URL (external metadata PostgreSQL),
SECRET_KEY (encryption key for saved passwords), DG_API_TOKEN (API token; default: api-token in the data directory),
DG_ALLOWED_HOSTS (comma-separated names, like --allowed-host), DG_PASSWORD (login; required for a non-loopback --host).`);
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));

function tlsFiles(): { cert: Buffer; key: Buffer } | undefined {
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('HTTPS needs both --tls-cert and --tls-key');
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

async function main() {
  const tls = tlsFiles();
  const core = await startCore({ mode: 'headless', dataDir: values['data-dir'] });
  let server;
  let token;
  try {
    token = loadApiToken(core.info.dataDir);
    server = await startHttpServer(core, {
      host: values.host!,
      port: Number(values.port),
      staticDir: path.resolve(here, '../renderer'),
      token: token.value,
      password: process.env.DG_PASSWORD,
      allowedHosts: [...values['allowed-host'], ...(process.env.DG_ALLOWED_HOSTS ?? '').split(',').filter((h) => h.trim())],
      tls,
    });
  } catch (e) {
    await core.close();
    throw e;
  }
  core.announce(server.url);
  // The address with the token signs the browser in (a cookie), then drops the token from the address bar.
  console.log(`DataGuardian is running at ${server.url}/?token=${token.value}`);
  console.log(`Scripts send "Authorization: Bearer <token>"; the token is in ${token.source}.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    await core.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Exit status of a start refused because another instance holds the data folder (service managers can tell it from a crash). */
const ALREADY_RUNNING = 3;

main().catch((e: Error) => {
  if (e instanceof AppError && e.code === 'already_running') {
    console.error(e.message);
    process.exit(ALREADY_RUNNING);
  }
  console.error(`DataGuardian could not start: ${e.message}`);
  process.exit(1);
});
