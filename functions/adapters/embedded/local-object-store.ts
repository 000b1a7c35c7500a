import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ObjectStore } from '../../ports/object-store.ts';

/** A key that cannot name an object under the root (absolute, `..`, empty segment, backslash). */
export class InvalidObjectKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidObjectKeyError';
  }
}

function checkKey(key: string): void {
  if (key.length === 0) throw new InvalidObjectKeyError(key, 'empty');
  if (key.startsWith('/')) throw new InvalidObjectKeyError(key, 'must be relative (no leading /)');
  if (key.includes('\\')) throw new InvalidObjectKeyError(key, 'use / as the separator');
  for (const part of key.split('/')) {
    if (part === '' || part === '.' || part === '..')
      throw new InvalidObjectKeyError(key, `bad segment '${part}'`);
  }
}

let tmpCounter = 0;

/**
 * `ObjectStore` over a local folder: key `a/b/c.parquet` is the file `<root>/a/b/c.parquet`.
 * A put writes a temporary file and renames it, so a reader never sees half an object.
 */
export class LocalFolderObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkKey(key);
    const file = join(this.root, key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    try {
      return new Uint8Array(await readFile(join(this.root, key)));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the deepest folder the prefix fully names, then filter by the whole prefix.
    const cut = prefix.lastIndexOf('/');
    const baseDir = join(this.root, cut < 0 ? '' : prefix.slice(0, cut));
    let entries: Dirent[];
    try {
      entries = await readdir(baseDir, { recursive: true, withFileTypes: true });
    } catch (err) {
      if (isNotFound(err) || isNotDir(err)) return [];
      throw err;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.endsWith('.tmp')) continue;
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    }
    return keys.sort();
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function isNotDir(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOTDIR';
}
