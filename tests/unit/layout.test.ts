import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => /\.(ts|tsx)$/.test(f))
    .map((f) => path.join(dir, f));
}

const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

it('core, shared and the renderer never import electron; only main and preload do', () => {
  for (const dir of ['electron/core', 'electron/server', 'shared', 'renderer']) {
    for (const file of sources(dir)) {
      assert.ok(!importsOf(file).some((i) => i === 'electron' || i.startsWith('electron/')), `${file} imports electron`);
    }
  }
});

it('the renderer never imports the Node side, and core never imports a transport', () => {
  for (const file of sources('renderer')) {
    assert.ok(!importsOf(file).some((i) => i.includes('/electron/')), `${file} imports from electron/`);
  }
  for (const file of sources('electron/core')) {
    assert.ok(!importsOf(file).some((i) => /\/(main|server|preload|renderer)\//.test(i)), `${file} imports a transport`);
  }
});
