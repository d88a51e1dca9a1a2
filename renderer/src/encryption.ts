import { useEffect, useState } from 'react';
import type { EncryptionState } from '../../shared/schemas/encryption.js';
import { api } from './api.js';

/** "age1qyqs…xk9d": enough of a public key for a person to tell two apart (the full key in a tooltip). */
export const shortKey = (recipient: string) => (recipient.length > 20 ? `${recipient.slice(0, 12)}…${recipient.slice(-6)}` : recipient);

/**
 * The encryption setup (public keys only), loaded where it is shown and loaded again when settings change.
 * `reload` after an action of this page; other windows' changes arrive as `entity.changed`.
 */
export function useEncryption(): { state: EncryptionState | null; error: string | null; reload(): Promise<void> } {
  const [state, setState] = useState<EncryptionState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = async () => {
    const r = await api.call('encryption.get', {});
    if (r.ok) {
      setState(r.data);
      setError(null);
    } else setError(r.error.message);
  };
  useEffect(() => {
    void reload();
    return api.on('entity.changed', (e) => {
      if (e.entity === 'settings') void reload();
    });
  }, []);
  return { state, error, reload };
}

/** Saves text as a file the browser downloads (nothing is kept: the object URL is revoked at once). */
export function saveText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
