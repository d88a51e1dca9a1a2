// The age format both ways against Debian's `age` CLI and typage (age-encryption, the reference on npm):
// what one writes the others read, at the sizes where the 64 KiB chunking has its edges.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { Decrypter, Encrypter } from 'age-encryption';
import { AgeError, createAgeDecrypter, createAgeEncrypter, newKeyPair, opensWith, parseIdentities, type KeyPair } from '../../electron/core/kernel/age.js';

let dir: string;
let key: KeyPair;
let keyFile: string;

const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17];

/** Feeds `data` in pieces of the given sizes (cycled), as a storage or a compressor would. */
function pieces(data: Buffer, sizes: number[]): Readable {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(out);
}

async function collect(source: Readable, stage: Transform): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, done) {
      chunks.push(c);
      done();
    },
  });
  await pipeline(source, stage, sink);
  return Buffer.concat(chunks);
}

const encryptOurs = async (data: Buffer, recipients: string[], sizes = [7000, 65536, 1]) => collect(pieces(data, sizes), await createAgeEncrypter(recipients));
const decryptOurs = (file: Buffer, identities: string[], sizes = [5, 70_000, 1000]) => collect(pieces(file, sizes), createAgeDecrypter(identities));
const cliEncrypt = (data: Buffer, recipient: string) => execFileSync('age', ['-r', recipient], { input: data, maxBuffer: 1 << 28 });
const cliDecrypt = (file: Buffer) => execFileSync('age', ['-d', '-i', keyFile], { input: file, maxBuffer: 1 << 28 });
async function typageDecrypt(file: Buffer, identity: string): Promise<Buffer> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return Buffer.from(await d.decrypt(file));
}
async function typageEncrypt(data: Buffer, recipient: string): Promise<Buffer> {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return Buffer.from(await e.encrypt(data));
}

before(async () => {
  dir = mkdtempSync('/tmp/dg-age-unit-');
  key = await newKeyPair();
  keyFile = path.join(dir, 'key.txt');
  writeFileSync(keyFile, `${key.identity}\n`, { mode: 0o600 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('interoperability', () => {
  for (const size of SIZES) {
    it(`${size} bytes: ours → age CLI and typage; age CLI and typage → ours`, async () => {
      const data = randomBytes(size);
      const ours = await encryptOurs(data, [key.recipient]);
      // The STREAM layout: header, 16-byte nonce, then a sealed (16-byte tag) chunk per 64 KiB, at least one.
      const sealedChunks = Math.max(1, Math.ceil(size / CHUNK));
      assert.equal(ours.length - ours.indexOf('\n', ours.indexOf('\n--- ') + 1) - 1, 16 + size + 16 * sealedChunks);
      assert.ok(cliDecrypt(ours).equals(data), 'the CLI reads ours');
      assert.ok((await typageDecrypt(ours, key.identity)).equals(data), 'typage reads ours');
      assert.ok((await decryptOurs(cliEncrypt(data, key.recipient), [key.identity])).equals(data), 'ours reads the CLI');
      assert.ok((await decryptOurs(await typageEncrypt(data, key.recipient), [key.identity])).equals(data), 'ours reads typage');
    });
  }

  it('typage and the CLI agree with each other on the edge sizes too', async () => {
    for (const size of [0, CHUNK, CHUNK + 1]) {
      const data = randomBytes(size);
      assert.ok(cliDecrypt(await typageEncrypt(data, key.recipient)).equals(data));
      assert.ok((await typageDecrypt(cliEncrypt(data, key.recipient), key.identity)).equals(data));
    }
  });

  it('a file to several recipients opens with each identity, and byte by byte', async () => {
    const other = await newKeyPair();
    const data = randomBytes(3 * CHUNK);
    const file = await encryptOurs(data, [other.recipient, key.recipient]);
    assert.ok((await decryptOurs(file, [other.identity], [1])).equals(data));
    assert.ok(cliDecrypt(file).equals(data));
  });

  it('a key file as age-keygen writes it, comments and all, is read; anything else is refused without being echoed', async () => {
    const written = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [parsed] = await parseIdentities(written);
    assert.equal(parsed!.recipient, /public key: (age1\w+)/.exec(written)![1]);
    for (const junk of ['', 'hello', 'AGE-SECRET-KEY-1NOTAKEY', `${key.identity}\nrm -rf /`]) {
      await assert.rejects(
        parseIdentities(junk),
        (e: Error) => !e.message.includes('NOTAKEY') && !e.message.includes('rm -rf') && !e.message.includes(key.identity),
      );
    }
  });
});

describe('refusals', () => {
  const data = randomBytes(3 * CHUNK + 100);
  let file: Buffer;
  before(async () => {
    file = await encryptOurs(data, [key.recipient]);
  });
  const payloadStart = () => file.indexOf('\n', file.indexOf('\n--- ') + 1) + 1 + 16;
  const refused = async (bytes: Buffer, reason: AgeError['reason'], identities = [key.identity]) =>
    assert.rejects(decryptOurs(bytes, identities), (e: unknown) => e instanceof AgeError && e.reason === reason);

  it('another key: reason "key", before any byte comes out', async () => {
    const stranger = await newKeyPair();
    const out: Buffer[] = [];
    const d = createAgeDecrypter([stranger.identity]);
    d.on('data', (c: Buffer) => out.push(c));
    await assert.rejects(pipeline(Readable.from([file]), d), (e: unknown) => e instanceof AgeError && e.reason === 'key');
    assert.equal(out.length, 0);
    assert.equal(await opensWith(file.subarray(0, 4096), [stranger.identity]), false);
    assert.equal(await opensWith(file.subarray(0, 4096), [key.identity]), true);
  });

  it('cut at a chunk boundary, cut inside a chunk, cut in the header, empty', async () => {
    await refused(file.subarray(0, payloadStart() + CHUNK + 16), 'damaged');
    await refused(file.subarray(0, file.length - 1), 'damaged');
    await refused(file.subarray(0, 40), 'not_age');
    await refused(Buffer.alloc(0), 'damaged');
  });

  it('a flipped payload byte, a changed header, chunks swapped, bytes appended', async () => {
    const flipped = Buffer.from(file);
    flipped[payloadStart() + CHUNK + 100]! ^= 1;
    await refused(flipped, 'damaged');
    const header = Buffer.from(file);
    header[30]! ^= 1;
    await assert.rejects(decryptOurs(header, [key.identity]), AgeError);
    const at = payloadStart();
    const swapped = Buffer.concat([
      file.subarray(0, at),
      file.subarray(at + CHUNK + 16, at + 2 * (CHUNK + 16)),
      file.subarray(at, at + CHUNK + 16),
      file.subarray(at + 2 * (CHUNK + 16)),
    ]);
    await refused(swapped, 'damaged');
    await refused(Buffer.concat([file, Buffer.from('more')]), 'damaged');
  });

  it('not age at all, and a header that never ends', async () => {
    await refused(Buffer.from('PGDMP\x01\x0e\x00'.repeat(100)), 'not_age');
    await refused(Buffer.concat([Buffer.from('age-encryption.org/v1\n-> X25519 '), Buffer.alloc(100_000, 0x41)]), 'not_age');
  });
});
