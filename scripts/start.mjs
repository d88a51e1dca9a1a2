// `npm start`: the Electron window where Electron can run, else the headless server (one line says why).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const binary = require('electron'); // the package exports the binary's path, and throws when it was never downloaded
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function run(command, args) {
  const child = spawn(command, args, { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

const binary = electronBinary();
const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
if (binary && hasDisplay) {
  run(binary, ['.', ...process.argv.slice(2)]);
} else {
  const why = binary ? 'no display is available' : 'the Electron binary is not installed (node node_modules/electron/install.js downloads it)';
  console.log(`DataGuardian: ${why}; starting the headless server instead.`);
  run(process.execPath, ['dist/server/cli.js', ...process.argv.slice(2)]);
}
