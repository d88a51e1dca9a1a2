import type { IncomingMessage } from 'node:http';
import type { AppErrorShape } from '../../shared/errors.js';

/** Past this many bytes of a refused body, the connection is cut instead of read to its end. */
const MAX_DISCARDED_BYTES = 16 * 1024 * 1024;

/** A request the transport turns down before any handler sees it, with the HTTP status that says why. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: AppErrorShape,
  ) {
    super(error.message);
  }
}

const isJson = (contentType: string | undefined) => (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';

/** The body's bytes, at most `maxBytes`; past that 413, and the rest is read and dropped so the client still gets the answer. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = new Refusal(413, { code: 'validation_error', message: `The request body is larger than ${Math.round(maxBytes / 1024)} KB` });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const refuse = () => {
      req.removeAllListeners('data').removeAllListeners('end');
      let discarded = 0;
      req.on('data', (chunk: Buffer) => {
        discarded += chunk.length;
        if (discarded > MAX_DISCARDED_BYTES) req.destroy();
      });
      reject(tooLarge);
    };
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) return refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return refuse();
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The request's input: nothing (the channel's defaults: `POST /api/backup-jobs/:id/run` as the seed writes
 * it), or JSON. Any other body is refused, not guessed at: a cross-site HTML form can post url-encoded or
 * text bodies without asking, never JSON.
 */
export async function readInput(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = (await readBody(req, maxBytes)).toString('utf8').trim();
  if (!text) return undefined;
  if (!isJson(req.headers['content-type'])) {
    throw new Refusal(415, { code: 'validation_error', message: 'Send the body as JSON (Content-Type: application/json), or send no body' });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Refusal(400, { code: 'validation_error', message: 'The body is not valid JSON' });
  }
}
