// `npm run setup`: installs the app's packages; `--test` also installs the servers and browser the tests use.
// Electron's binary comes from outside the npm registry: its download is skipped here (package.json's
// allowScripts denies it too) and `npm start` falls back to the headless server when it is missing.
import { spawnSync } from 'node:child_process';

const testing = process.argv.includes('--test');
const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };

function step(title, command, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`setup failed at: ${title}`);
    process.exit(r.status ?? 1);
  }
}

// npm's EBADENGINE warnings about Electron's packages, said once in words: they matter only for the desktop app.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.log(
    `Node ${process.versions.node}: fine for the headless server and the tests; the desktop app's Electron tools need Node 22.12 or newer (npm warns about them below).`,
  );
}

if (testing && process.platform === 'linux') step('system packages for the tests', 'bash', ['scripts/install-test-deps.sh']);
step('npm packages', 'npm', ['install', '--no-audit', '--no-fund']);
