import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeadLetter } from '../../core/index.ts';
import type { DeadLetterSink } from '../../ports/dead-letter-sink.ts';
import { fileName, type SourceRange } from '../parquet/partition.ts';

/**
 * Dead letters as JSONL files in a folder (embedded mode: `<out>/_deadletter/`), one file per
 * batch named from its coordinates, `<topic>-<partition>-<first>-<last>.jsonl`, so a redelivered
 * batch replaces its file. One line per poison record, the core's `DeadLetter` as JSON:
 * `{"reason":{"code","field","message"},"topic","partition","offset","key","valueBase64"}`.
 * Files are written whole (temporary file + rename).
 */
export class JsonlDeadLetterSink implements DeadLetterSink {
  readonly dir: string;
  /** Records stored so far. */
  stored = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  async send(source: SourceRange, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, fileName(source).replace(/\.parquet$/, '.jsonl'));
    const text = `${letters.map((l) => JSON.stringify(l)).join('\n')}\n`;
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, file);
    this.stored += letters.length;
  }
}
