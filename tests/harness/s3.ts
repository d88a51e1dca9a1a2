// An S3-compatible server (s3rver) in this process, on 127.0.0.1, storing
// objects in a temp folder.
import { CreateBucketCommand, ListBucketsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
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
