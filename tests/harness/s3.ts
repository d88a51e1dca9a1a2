// An S3-compatible server (s3rver) in this process, on 127.0.0.1, storing
// objects in a temp folder.
import { CreateBucketCommand, ListBucketsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import S3rver from 's3rver';
import { removeTempDir, stopOnce, tempDir } from './cleanup.js';

export interface S3Server {
  endpoint: string;
  region: 'us-east-1';
  accessKeyId: 'S3RVER';
  secretAccessKey: 'S3RVER';
  /** The server's temp folder (data, config, log); removed by stop(). */
  dir: string;
  /**
   * Options for `new S3Client(...)` that work against this server: path-style
   * addresses, and checksums only when an operation requires them. With the
   * SDK's default (WHEN_SUPPORTED), a PutObject whose Body is a stream is sent
   * as aws-chunked with a CRC32 trailer, and s3rver stores that framing as the
   * object's bytes: the upload "succeeds" and the object is corrupt.
   */
  clientConfig: S3ClientConfig;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  const dir = await tempDir('dg-harness-s3-');
  // Port 0: the OS picks a free port at bind time, so no clash is possible.
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true });
  // Ahead of s3rver's own routes, which answer NotImplemented / 405 to these two.
  server.middleware.unshift(multipartUploads(dir));
  let client: S3Client | undefined;
  try {
    const { port } = await server.run();
    // A forgotten server must not keep the test process alive.
    server.httpServer?.unref();
    const endpoint = `http://127.0.0.1:${port}`;
    const clientConfig: S3ClientConfig = {
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    const s3 = new S3Client(clientConfig);
    client = s3;
    await s3.send(new ListBucketsCommand({}));

    return {
      endpoint,
      dir,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      clientConfig,
      createBucket: async (name) => {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      },
      stop: stopOnce(async () => {
        s3.destroy();
        await closeServer(server);
        await removeTempDir(dir);
      }),
    };
  } catch (error) {
    client?.destroy();
    await closeServer(server).catch(() => undefined);
    await removeTempDir(dir);
    throw new Error(`s3rver failed to start in ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function closeServer(server: S3rver): Promise<void> {
  if (!server.httpServer?.listening) return;
  // SDK clients keep connections alive; close() alone would wait for them.
  server.httpServer.closeAllConnections();
  await server.close();
}

/** Where s3rver keeps a bucket's open multipart uploads: one folder per upload id, holding its key and parts. */
const uploadsDir = (dir: string, bucket: string) => path.join(dir, bucket, '._S3rver_uploads');

interface KoaLike {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
}

/**
 * ListMultipartUploads and AbortMultipartUpload, which s3rver lacks (AWS, MinIO and Backblaze have
 * them): recovery after a crash lists the open uploads under a job's folder and aborts them.
 */
function multipartUploads(dir: string) {
  return async (ctx: KoaLike, next: () => Promise<unknown>) => {
    const [bucket, ...keyParts] = ctx.path.replace(/^\//, '').split('/');
    if (!bucket) return next();
    const key = decodeURIComponent(keyParts.join('/'));
    if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const uploads: string[] = [];
      for (const id of await readdir(uploadsDir(dir, bucket)).catch(() => [])) {
        const folder = path.join(uploadsDir(dir, bucket), id);
        const uploadKey = await readFile(path.join(folder, 'key'), 'utf8').catch(() => null);
        if (uploadKey === null || !uploadKey.startsWith(prefix)) continue;
        const initiated = (await stat(folder)).birthtime.toISOString();
        uploads.push(`<Upload><Key>${escapeXml(uploadKey)}</Key><UploadId>${id}</UploadId><Initiated>${initiated}</Initiated></Upload>`);
      }
      ctx.type = 'application/xml';
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${bucket}</Bucket><Prefix>${escapeXml(prefix)}</Prefix>` +
        `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
      return;
    }
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && key && typeof uploadId === 'string' && /^[0-9a-f]+$/.test(uploadId)) {
      const folder = path.join(uploadsDir(dir, bucket), uploadId);
      const uploadKey = await readFile(path.join(folder, 'key'), 'utf8').catch(() => null);
      if (uploadKey !== key) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist</Message></Error>';
        return;
      }
      await rm(folder, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next();
  };
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
