/**
 * Runs `work` on a connection `open` makes. Abort closes the connection, which stops a running query
 * (a cancelled restore must not wait for a long count), and the connection is always closed after.
 */
export async function withConnection<C, T>(
  signal: AbortSignal,
  open: () => Promise<C>,
  close: (conn: C) => unknown,
  work: (conn: C) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const conn = await open();
  const end = () => void Promise.resolve(close(conn)).catch(() => undefined);
  signal.addEventListener('abort', end, { once: true });
  try {
    return await work(conn);
  } catch (e) {
    signal.throwIfAborted();
    throw e;
  } finally {
    signal.removeEventListener('abort', end);
    await Promise.resolve(close(conn)).catch(() => undefined);
  }
}
