import { rootCertificates } from 'node:tls';
import type { ServerConnectionConfig, SslMode } from '../../../shared/schemas/datasource.js';
import { secretFile } from './process.js';

/** The mode a config asks for; a config saved before the modes existed carries only `ssl_enabled`. */
export const sslModeOf = (c: ServerConnectionConfig): SslMode => c.ssl_mode ?? (c.ssl_enabled ? 'require' : 'disable');

export const verifies = (mode: SslMode) => mode === 'verify-ca' || mode === 'verify-full';

/**
 * The CA file a client tool checks the server against: the configured CA, else the CAs Node trusts,
 * so that the tools and the drivers accept the same servers.
 */
export function caFile(c: ServerConnectionConfig, tempDir: string): { path: string; remove: () => void } {
  return secretFile(tempDir, 'ca', c.ssl_ca ? `${c.ssl_ca.trim()}\n` : `${rootCertificates.join('\n')}\n`);
}
