import { createHash } from 'node:crypto';
import type { FileSample, RecordedContent } from '../../../../shared/schemas/drill.js';

/**
 * What a folder backup records for a drill: the bytes of its files, and the SHA-256 of a sample of them as
 * they were archived (the 1st, 2nd, 4th, 8th… file: a handful spread over the whole tree, however big).
 */
export class RecordedFiles {
  private bytes = 0;
  private readonly samples: FileSample[] = [];

  file(size: number) {
    this.bytes += size;
  }

  /** `nth`: the file's place among the files archived (1 for the first). */
  sample(nth: number, path: string, data: Buffer) {
    if ((nth & (nth - 1)) !== 0 || this.samples.length >= 64) return;
    this.samples.push({ path, sha256: createHash('sha256').update(data).digest('hex') });
  }

  content(): RecordedContent {
    return { files_bytes: this.bytes, file_samples: this.samples };
  }
}
