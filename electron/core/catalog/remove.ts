import type { Storage } from '../storage/types.js';

/**
 * Removes one backup folder from a storage: `manifest.json` first, so a removal cut short never leaves
 * what looks like a complete backup, then every other file (parts, a half-written temp file). Answers
 * what went. Used for a failed attempt, an interrupted run and a backup retention lets go.
 */
export async function removeBackupFolder(storage: Storage, folder: string, onManifestRemoved?: () => void): Promise<{ files: number; bytes: number }> {
  const objects = await storage.list(`${folder}/`);
  const manifestKey = `${folder}/manifest.json`;
  await storage.delete(manifestKey);
  onManifestRemoved?.();
  for (const object of objects) if (object.key !== manifestKey) await storage.delete(object.key);
  return { files: objects.length, bytes: objects.reduce((sum, o) => sum + o.size, 0) };
}
