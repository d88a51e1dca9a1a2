import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startCore } from '../core/app.js';
import { startHttpServer } from './http.js';

/** `npm run serve`: the headless app, serving the same UI to a browser. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.DG_PORT ?? '5151' },
    host: { type: 'string', default: process.env.DG_HOST ?? '127.0.0.1' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run serve -- [--port 5151] [--host 127.0.0.1] [--data-dir DIR]
Environment: DG_DATA_DIR (data directory), DATABASE_URL (external metadata PostgreSQL),
SECRET_KEY (encryption key for saved passwords), DG_PASSWORD (login; required for a non-loopback --host).`);
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function main() {
  const core = await startCore({ mode: 'headless', dataDir: values['data-dir'] });
  let server;
  try {
    server = await startHttpServer(core, {
      host: values.host!,
      port: Number(values.port),
      staticDir: path.resolve(here, '../renderer'),
      password: process.env.DG_PASSWORD,
    });
  } catch (e) {
    await core.close();
    throw e;
  }
  console.log(`DataGuardian is running at ${server.url}`);
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

main().catch((e: Error) => {
  console.error(`DataGuardian could not start: ${e.message}`);
  process.exit(1);
});
