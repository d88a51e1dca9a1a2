// Tool discovery asks each installed tool its version once, and again only when what is installed (or
// the folder set in Settings) changes; what it learnt survives a restart. Real executables in a temp folder.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { findTools, rememberToolsIn } from '../../electron/core/engines/tools.js';

const work = mkdtempSync('/tmp/dg-tools-cache-test-');
after(() => rmSync(work, { recursive: true, force: true }));

// A name no PATH has, so only these folders hold it.
const NAME = 'dg_fake_dump';
const asked = path.join(work, 'asked');

function install(dir: string, version: string) {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, NAME);
  writeFileSync(file, `#!/bin/sh\necho ${JSON.stringify(dir)} >> ${asked}\necho "${NAME} (PostgreSQL) ${version}"\n`);
  chmodSync(file, 0o755);
  return file;
}
const timesAsked = () => readFileSync(asked, 'utf8').split('\n').filter(Boolean).length;

describe('tool discovery', () => {
  const usual = path.join(work, 'usual');
  const custom = path.join(work, 'custom');
  writeFileSync(asked, '');

  it('asks once, then again only when a tool changes or Settings name another folder', async () => {
    install(usual, '15.4');
    const first = await findTools([NAME], () => [usual]);
    assert.deepEqual(
      first.map((t) => t.version),
      [[15, 4]],
    );
    await findTools([NAME], () => [usual]);
    assert.equal(timesAsked(), 1, 'the second look is answered from what is known');

    install(usual, '16.1.2'); // an upgrade: another size and time
    const upgraded = await findTools([NAME], () => [usual]);
    assert.deepEqual(upgraded[0]!.version, [16, 1]);
    assert.equal(timesAsked(), 2);

    install(custom, '17.0');
    const withSetting = await findTools([NAME], () => [usual], custom);
    assert.deepEqual(
      withSetting.map((t) => t.path),
      [path.join(custom, NAME), path.join(usual, NAME)],
    );
    assert.equal(timesAsked(), 4, 'a new folder in Settings: both candidates asked');
  });

  it('asks concurrent callers once', async () => {
    const dir = path.join(work, 'concurrent');
    install(dir, '15.1');
    const before = timesAsked();
    await Promise.all([findTools([NAME], () => [dir]), findTools([NAME], () => [dir]), findTools([NAME], () => [dir])]);
    assert.equal(timesAsked(), before + 1);
  });

  it('remembers across a restart, and never trusts a remembered tool that is not among the candidates', async () => {
    const dir = path.join(work, 'restart');
    install(dir, '15.2');
    const file = path.join(work, 'tools.json');
    rememberToolsIn(file);
    await findTools([NAME], () => [dir]);
    const before = timesAsked();
    rememberToolsIn(file); // a new process reads the file
    const again = await findTools([NAME], () => [dir]);
    assert.equal(timesAsked(), before, 'answered from the file');
    assert.equal(again[0]!.path, path.join(dir, NAME));

    // Someone edits the file to point at another program: it is not used, the real candidates are asked.
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { fingerprint: string; tools: { path: string }[] }>;
    for (const entry of Object.values(saved)) entry.tools = [{ ...entry.tools[0]!, path: '/bin/sh' }];
    writeFileSync(file, JSON.stringify(saved));
    rememberToolsIn(file);
    const checked = await findTools([NAME], () => [dir]);
    assert.deepEqual(
      checked.map((t) => t.path),
      [path.join(dir, NAME)],
    );
    assert.equal(timesAsked(), before + 1);
  });
});
