import { readFileSync } from 'node:fs';

/** The version in package.json (two folders up from electron/core and from each dist/ bundle). */
export function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return process.env.npm_package_version ?? '0.0.0';
  }
}
