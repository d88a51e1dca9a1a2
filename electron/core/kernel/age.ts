import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
// Loaded on first use: the package and its post-quantum code take ~0.25 s to load, which an app that never encrypts need not pay at start.
const typage = () => import('age-encryption');
import { AppError } from '../../../shared/errors.js';

/**
 * The age format (age-encryption.org/v1, the C2SP spec), as `age -d` reads it. The header and its
 * stanzas are typage's (age-encryption, by age's author); the payload, ChaCha20-Poly1305 in 64 KiB
 * chunks, is sealed and opened with node:crypto (OpenSSL): typage's pure-JS cipher is the slow part of a
 * stream, OpenSSL's runs at memory speed.
 */

const MAGIC = Buffer.from('age-encryption.org/v1\n');
const CHUNK = 64 * 1024;
const TAG = 16;
const SEALED_CHUNK = CHUNK + TAG;
const NONCE = 16;
/** No header of ours comes near it (a stanza is ~120 bytes); a stream that has not ended its header by then is not an age file. */
const MAX_HEADER = 64 * 1024;
/** What a file of ours looks like on its first line, to tell "not age" from "damaged". */
const MAC_LINE = Buffer.from('\n--- ');

const IDENTITY_LINE = /^AGE-SECRET-KEY-1[0-9A-Z]+$/;
const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** A key pair: `identity` (AGE-SECRET-KEY-1…) opens what is encrypted to `recipient` (age1…). */
export interface KeyPair {
  identity: string;
  recipient: string;
}

export async function newKeyPair(): Promise<KeyPair> {
  const { generateX25519Identity, identityToRecipient } = await typage();
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The recipient (public key) of an identity; a malformed identity is refused without repeating it. */
export async function recipientOf(identity: string): Promise<string> {
  const { identityToRecipient } = await typage();
  try {
    return await identityToRecipient(identity);
  } catch {
    throw new AppError('validation_error', 'This is not an age identity (a key starts with AGE-SECRET-KEY-1)');
  }
}

/**
 * The identities in what a user pasted or uploaded: a key file as age-keygen writes it (comments, the
 * public key, the secret key line), or the bare key. Nothing else is accepted, and the error never echoes the text.
 */
export async function parseIdentities(text: string): Promise<KeyPair[]> {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length === 0 || lines.length > 16 || !lines.every((l) => IDENTITY_LINE.test(l.toUpperCase()))) {
    throw new AppError('validation_error', 'Paste an age key: a line starting with AGE-SECRET-KEY-1 (the recovery key file, comments allowed)');
  }
  return Promise.all(lines.map(async (l) => ({ identity: l.toUpperCase(), recipient: await recipientOf(l.toUpperCase()) })));
}

/** An age X25519 recipient (age1…, 62 characters), checked down to its checksum. */
export async function checkRecipient(recipient: string): Promise<string> {
  const r = recipient.trim();
  const { Encrypter } = await typage();
  try {
    if (!RECIPIENT.test(r)) throw new Error('shape');
    new Encrypter().addRecipient(r);
    return r;
  } catch {
    throw new AppError('validation_error', `Not an age public key: ${r.slice(0, 70)} (one starts with age1 and has 62 characters)`);
  }
}

/** "age1qyqs…xk9d": enough of a public key for a person to tell two apart. */
export const fingerprint = (recipient: string) => (recipient.length > 20 ? `${recipient.slice(0, 12)}…${recipient.slice(-6)}` : recipient);

/** 11-byte big-endian chunk counter, then the last-chunk flag (spec: STREAM). */
function nonces() {
  const nonce = Buffer.alloc(12);
  return (last: boolean) => {
    nonce[11] = last ? 1 : 0;
    const out = Buffer.from(nonce);
    for (let i = 10; i >= 0; i--) {
      nonce[i] = (nonce[i]! + 1) & 0xff;
      if (nonce[i] !== 0) break;
    }
    return out;
  };
}

const payloadKey = (fileKey: Uint8Array, nonce: Buffer) => Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));

/**
 * A header to `recipients` and its file key. typage writes the header (stanzas, MAC); the file key is
 * seen through a Recipient of our own that adds no stanza, the interface typage offers for custom
 * recipients. Encrypting zero bytes gives header ‖ nonce ‖ one empty sealed chunk: the header is all but the last 32 bytes.
 */
async function headerTo(recipients: string[]): Promise<{ header: Buffer; fileKey: Uint8Array }> {
  if (recipients.length === 0) throw new AppError('validation_error', 'An encrypted backup needs at least one public key');
  const { Encrypter } = await typage();
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r);
  let fileKey: Uint8Array | undefined;
  encrypter.addRecipient({
    wrapFileKey(key: Uint8Array) {
      fileKey = key.slice();
      return [];
    },
  });
  const empty = await encrypter.encrypt(new Uint8Array(0));
  return { header: Buffer.from(empty.subarray(0, empty.length - NONCE - TAG)), fileKey: fileKey! };
}

function seal(key: Buffer, nonce: Buffer, plain: Buffer, out: Buffer[]) {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  out.push(cipher.update(plain));
  cipher.final();
  out.push(cipher.getAuthTag());
}

/**
 * Encrypts a stream to `recipients` as one age file: flat memory (one 64 KiB chunk held back, since
 * only the end of the stream says which chunk is the last), backpressure as any Transform.
 */
export async function createAgeEncrypter(recipients: string[]): Promise<Transform> {
  const { header, fileKey } = await headerTo(recipients);
  const streamNonce = randomBytes(NONCE);
  const key = payloadKey(fileKey, streamNonce);
  const next = nonces();
  let started = false;
  /** Plaintext not sealed yet: at most one chunk, which is the last if the stream ends now. */
  let pending = Buffer.alloc(0);
  return new Transform({
    readableHighWaterMark: 1024 * 1024,
    transform(data: Buffer, _enc, done: TransformCallback) {
      const out: Buffer[] = [];
      if (!started) {
        started = true;
        out.push(header, streamNonce);
      }
      let rest = data;
      if (pending.length > 0) {
        const take = Math.min(CHUNK - pending.length, rest.length);
        pending = Buffer.concat([pending, rest.subarray(0, take)]);
        rest = rest.subarray(take);
        if (rest.length === 0) return done(null, out.length ? Buffer.concat(out) : undefined);
        seal(key, next(false), pending, out);
      }
      // Whole chunks straight from the input while more follows; what is left waits for the next write or the end.
      let at = 0;
      while (rest.length - at > CHUNK) {
        seal(key, next(false), rest.subarray(at, at + CHUNK), out);
        at += CHUNK;
      }
      pending = Buffer.from(rest.subarray(at));
      done(null, out.length ? Buffer.concat(out) : undefined);
    },
    flush(done: TransformCallback) {
      const out: Buffer[] = started ? [] : [header, streamNonce];
      seal(key, next(true), pending, out);
      done(null, Buffer.concat(out));
    },
  });
}

/** Why an age stream cannot be opened. `key` means no identity given opens it; the rest mean damaged bytes. */
export class AgeError extends Error {
  constructor(
    readonly reason: 'key' | 'not_age' | 'damaged',
    message: string,
  ) {
    super(message);
    this.name = 'AgeError';
  }
}

/** Where the header ends (just past `--- <mac>\n`), or -1 when it has not arrived yet. */
function headerEnd(buffer: Buffer): number {
  const mac = buffer.indexOf(MAC_LINE);
  if (mac < 0) return -1;
  const nl = buffer.indexOf(0x0a, mac + MAC_LINE.length);
  return nl < 0 ? -1 : nl + 1;
}

/**
 * Decrypts one age stream with the first of `identities` that opens it. The header is checked (MAC) before
 * any byte of payload is let through; each 64 KiB chunk is authenticated before it is passed on; a stream
 * cut short, reordered or spliced from another file fails at the chunk where it differs or at its end.
 */
export function createAgeDecrypter(identities: string[]): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  let key: Buffer | null = null;
  const next = nonces();
  let pending = Buffer.alloc(0);
  let chunks = 0;

  function open(sealed: Buffer, last: boolean, out: Buffer[]) {
    const decipher = createDecipheriv('chacha20-poly1305', key!, next(last), { authTagLength: TAG });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const plain = decipher.update(sealed.subarray(0, sealed.length - TAG));
    try {
      decipher.final();
    } catch {
      throw new AgeError('damaged', `The encrypted data is damaged or was changed (at ${chunks * CHUNK} bytes into the backup): it does not authenticate`);
    }
    if (last && plain.length === 0 && chunks > 0) throw new AgeError('damaged', 'The encrypted data ends with an empty chunk: it was cut or changed');
    chunks++;
    out.push(plain);
  }

  async function readHeader(buffer: Buffer): Promise<Buffer | null> {
    if (buffer.length >= MAGIC.length && !buffer.subarray(0, MAGIC.length).equals(MAGIC))
      throw new AgeError('not_age', 'This is not an age file (its first line is not age-encryption.org/v1)');
    const end = headerEnd(buffer);
    if (end < 0) {
      if (buffer.length > MAX_HEADER) throw new AgeError('not_age', 'This is not an age file (no header end in its first 64 KiB)');
      return null;
    }
    if (buffer.length < end + NONCE) return null;
    const { Decrypter } = await typage();
    const decrypter = new Decrypter();
    for (const identity of identities) decrypter.addIdentity(identity);
    let fileKey: Uint8Array;
    try {
      fileKey = await decrypter.decryptHeader(buffer.subarray(0, end));
    } catch (e) {
      const message = (e as Error).message;
      if (/no identity matched/.test(message)) throw new AgeError('key', 'None of the keys given opens this file');
      throw new AgeError('damaged', `The age header is damaged or was changed (${message})`);
    }
    key = payloadKey(fileKey, buffer.subarray(end, end + NONCE));
    return buffer.subarray(end + NONCE);
  }

  function payload(data: Buffer, out: Buffer[]) {
    let rest = data;
    if (pending.length > 0) {
      const take = Math.min(SEALED_CHUNK - pending.length, rest.length);
      pending = Buffer.concat([pending, rest.subarray(0, take)]);
      rest = rest.subarray(take);
      if (rest.length === 0) return;
      open(pending, false, out);
    }
    let at = 0;
    while (rest.length - at > SEALED_CHUNK) {
      open(rest.subarray(at, at + SEALED_CHUNK), false, out);
      at += SEALED_CHUNK;
    }
    pending = Buffer.from(rest.subarray(at));
  }

  return new Transform({
    readableHighWaterMark: 1024 * 1024,
    transform(data: Buffer, _enc, done: TransformCallback) {
      const out: Buffer[] = [];
      const go = async () => {
        if (head) {
          head = Buffer.concat([head, data]);
          const rest = await readHeader(head);
          if (!rest) return;
          head = null;
          payload(rest, out);
        } else payload(data, out);
      };
      go().then(
        () => done(null, out.length ? Buffer.concat(out) : undefined),
        (e: Error) => done(e),
      );
    },
    flush(done: TransformCallback) {
      try {
        if (head) throw new AgeError(head.length === 0 ? 'damaged' : 'not_age', head.length === 0 ? 'The file is empty' : 'The age header is cut short');
        if (pending.length < TAG) throw new AgeError('damaged', 'The encrypted data is cut short: its last chunk is missing');
        const out: Buffer[] = [];
        open(pending, true, out);
        done(null, Buffer.concat(out));
      } catch (e) {
        done(e as Error);
      }
    },
  });
}

/** Whether one of `identities` opens the age file that starts with `head` (its header is enough): no payload is read. */
export async function opensWith(head: Buffer, identities: string[]): Promise<boolean> {
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new AgeError('not_age', 'This is not an age file');
  const end = headerEnd(head);
  if (end < 0) throw new AgeError('damaged', 'The age header is cut short');
  const { Decrypter } = await typage();
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  try {
    await decrypter.decryptHeader(head.subarray(0, end));
    return true;
  } catch (e) {
    if (/no identity matched/.test((e as Error).message)) return false;
    throw new AgeError('damaged', `The age header is damaged or was changed (${(e as Error).message})`);
  }
}

/** ASCII armor (`-----BEGIN AGE ENCRYPTED FILE-----`), which `age -d` reads as it is: the kit travels as text. */
export async function armored(file: Uint8Array): Promise<string> {
  return (await typage()).armor.encode(file);
}

/** The bytes of an armored age file; throws on anything else. */
export async function unarmored(text: string): Promise<Uint8Array> {
  return (await typage()).armor.decode(text);
}

/** A small file (the configuration kit) encrypted to `recipients`, or else with a passphrase (scrypt), in memory. */
export async function encryptSmall(plain: Uint8Array, to: { recipients?: string[]; passphrase?: string }): Promise<Uint8Array> {
  const { Encrypter } = await typage();
  const encrypter = new Encrypter();
  if (to.passphrase !== undefined) encrypter.setPassphrase(to.passphrase);
  for (const r of to.recipients ?? []) encrypter.addRecipient(r);
  return encrypter.encrypt(plain);
}

/** Opens a small age file with identities or a passphrase; throws AgeError. */
export async function decryptSmall(file: Uint8Array, by: { identities?: string[]; passphrase?: string }): Promise<Uint8Array> {
  const { Decrypter } = await typage();
  const decrypter = new Decrypter();
  if (by.passphrase !== undefined) decrypter.addPassphrase(by.passphrase);
  for (const i of by.identities ?? []) decrypter.addIdentity(i);
  try {
    return await decrypter.decrypt(file);
  } catch (e) {
    const message = (e as Error).message;
    if (/no identity matched/.test(message)) throw new AgeError('key', 'None of the keys given opens this file');
    if (/parse|header|magic|version/i.test(message)) throw new AgeError('not_age', `This is not an age file (${message})`);
    throw new AgeError('damaged', `The file is damaged or was changed (${message})`);
  }
}

/** The 12-byte nonce of payload chunk `index` (spec: STREAM), for reading chunks out of order. */
function nonceAt(index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  let n = index;
  for (let i = 10; i >= 0 && n > 0; i--) {
    nonce[i] = n % 256;
    n = Math.floor(n / 256);
  }
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** An age file opened for reading any of its chunks: where its payload starts (in the file), its key and its length. */
export interface OpenedPayload {
  start: number;
  key: Buffer;
  /** How many sealed chunks the payload holds, and its plaintext length. */
  chunks: number;
  plainBytes: number;
}

/** Opens the age file of `fileBytes` bytes that starts with `head` (its header and nonce, up to 64 KiB) with `identities`. */
export async function openPayload(head: Buffer, fileBytes: number, identities: string[]): Promise<OpenedPayload> {
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new AgeError('not_age', 'This is not an age file');
  const end = headerEnd(head);
  if (end < 0 || head.length < end + NONCE) throw new AgeError('damaged', 'The age header is cut short');
  const { Decrypter } = await typage();
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  let fileKey: Uint8Array;
  try {
    fileKey = await decrypter.decryptHeader(head.subarray(0, end));
  } catch (e) {
    if (/no identity matched/.test((e as Error).message)) throw new AgeError('key', 'None of the keys given opens this file');
    throw new AgeError('damaged', `The age header is damaged or was changed (${(e as Error).message})`);
  }
  const start = end + NONCE;
  const sealed = fileBytes - start;
  const chunks = Math.max(1, Math.ceil(sealed / SEALED_CHUNK));
  return { start, key: payloadKey(fileKey, head.subarray(end, start)), chunks, plainBytes: sealed - chunks * TAG };
}

/** Where plaintext bytes `from` to `to` (exclusive) are sealed: the chunks that hold them, as a byte range of the file. */
export function sealedRange(p: OpenedPayload, from: number, to: number): { first: number; start: number; end: number } {
  const first = Math.floor(from / CHUNK);
  const last = Math.min(p.chunks - 1, Math.floor(Math.max(from, to - 1) / CHUNK));
  return { first, start: p.start + first * SEALED_CHUNK, end: Math.min(p.start + (last + 1) * SEALED_CHUNK, p.start + p.plainBytes + p.chunks * TAG) };
}

/** Opens whole sealed chunks read from the file (`sealed` starts at chunk `first`); each is authenticated, the file's last one as the last. */
export function openChunks(p: OpenedPayload, first: number, sealed: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let at = 0, index = first; at < sealed.length; at += SEALED_CHUNK, index++) {
    const chunk = sealed.subarray(at, at + SEALED_CHUNK);
    const decipher = createDecipheriv('chacha20-poly1305', p.key, nonceAt(index, index === p.chunks - 1), { authTagLength: TAG });
    decipher.setAuthTag(chunk.subarray(chunk.length - TAG));
    out.push(decipher.update(chunk.subarray(0, chunk.length - TAG)));
    try {
      decipher.final();
    } catch {
      throw new AgeError('damaged', `The encrypted data is damaged or was changed (at ${index * CHUNK} bytes into the backup): it does not authenticate`);
    }
  }
  return Buffer.concat(out);
}
