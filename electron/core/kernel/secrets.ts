import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSecretField } from '../../../shared/secrets.js';

const PREFIX = 'enc:v1:';

/**
 * Encrypts the secret fields of a config at rest (AES-256-GCM). The key comes from `SECRET_KEY`
 * when set (any string; hashed to 32 bytes), else from a generated 0600 key file in the data dir.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static open(dataDir: string): SecretBox {
    const fromEnv = process.env.SECRET_KEY;
    if (fromEnv) return new SecretBox(createHash('sha256').update(fromEnv).digest());
    const file = path.join(dataDir, 'secret.key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    chmodSync(file, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} is not a valid key: delete it only if no secrets were saved with it`);
    return new SecretBox(key);
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join(':');
  }

  decrypt(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) return sealed;
    const [iv, tag, body] = sealed
      .slice(PREFIX.length)
      .split(':')
      .map((p) => Buffer.from(p, 'base64'));
    if (!iv || !tag || !body) throw new Error('A stored secret is damaged');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('A stored secret cannot be decrypted: SECRET_KEY or the key file changed since it was saved');
    }
  }

  sealConfig(config: Record<string, unknown>): Record<string, unknown> {
    return mapSecrets(config, (v) => (v.startsWith(PREFIX) ? v : this.encrypt(v)));
  }

  openConfig(config: Record<string, unknown>): Record<string, unknown> {
    return mapSecrets(config, (v) => this.decrypt(v));
  }
}

function mapSecrets(config: Record<string, unknown>, fn: (v: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = isSecretField(k) && typeof v === 'string' && v ? fn(v) : v;
  return out;
}
