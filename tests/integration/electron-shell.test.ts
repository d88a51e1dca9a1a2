import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { it } from 'node:test';

const require = createRequire(import.meta.url);

function electronBinary(): string | null {
  try {
    const binary = require('electron') as string;
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const display = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

// Electron's binary cannot be downloaded on the team's machines: this runs wherever one is present.
it(
  'the desktop shell opens its window and answers a call over IPC',
  { skip: !binary || !display ? 'no Electron binary or no display here' : false },
  async () => {
    const { _electron } = await import('playwright-core');
    const dataDir = mkdtempSync('/tmp/dg-electron-');
    chmodSync(dataDir, 0o755);
    const app = await _electron.launch({ executablePath: binary!, args: ['.', '--no-sandbox'], env: { ...process.env, DG_DATA_DIR: dataDir } });
    try {
      const page = await app.firstWindow();
      const info = await page.evaluate(() => window.dataguardian!.call('system.info', {}));
      assert.equal(info.ok && info.data.mode, 'desktop');
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

it('the shell is built: main, and a single-file CommonJS preload', () => {
  assert.ok(existsSync('dist/electron/main.js'), 'run npm run build first');
  assert.ok(existsSync('dist/electron/preload.cjs'));
});
