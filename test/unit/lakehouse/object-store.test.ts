import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidObjectKeyError,
  LocalFolderObjectStore,
} from '../../../functions/adapters/embedded/local-object-store.ts';

function newStore(): LocalFolderObjectStore {
  return new LocalFolderObjectStore(mkdtempSync(join(tmpdir(), 'tw-store-')));
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('LocalFolderObjectStore', () => {
  it('gets back the bytes it put, under nested keys', async () => {
    // Prepare
    const store = newStore();

    // Act
    await store.put('gold/alerts/dt=2026-01-15/hr=10/a.parquet', bytes('abc'));

    // Assess
    expect(await store.get('gold/alerts/dt=2026-01-15/hr=10/a.parquet')).toEqual(bytes('abc'));
  });

  it('returns undefined for a key with no object', async () => {
    expect(await newStore().get('silver/events/nothing.parquet')).toBeUndefined();
  });

  it('overwrites an object put twice and leaves no temporary file', async () => {
    // Prepare
    const store = newStore();
    await store.put('a/b.parquet', bytes('first'));

    // Act
    await store.put('a/b.parquet', bytes('second'));

    // Assess
    expect(await store.get('a/b.parquet')).toEqual(bytes('second'));
    expect(readdirSync(join(store.root, 'a'))).toEqual(['b.parquet']);
  });

  it('lists keys by plain string prefix, sorted, as S3 does', async () => {
    // Prepare
    const store = newStore();
    for (const key of [
      'silver/events/dt=2026-01-15/hr=11/x',
      'silver/events/dt=2026-01-15/hr=10/y',
      'silver/eventsx/z',
      'gold/alerts/w',
    ])
      await store.put(key, bytes(key));

    // Act
    const events = await store.list('silver/events/');
    const silver = await store.list('silver/ev');
    const all = await store.list('');
    const none = await store.list('bronze/');

    // Assess
    expect(events).toEqual(['silver/events/dt=2026-01-15/hr=10/y', 'silver/events/dt=2026-01-15/hr=11/x']);
    expect(silver).toEqual([...events, 'silver/eventsx/z']);
    expect(all).toEqual(['gold/alerts/w', ...silver]);
    expect(none).toEqual([]);
  });

  it.each([
    '',
    '/abs/key',
    'a/../../etc/passwd',
    'a//b',
    'a\\b',
    './a',
  ])('refuses the key %j', async (key) => {
    await expect(newStore().put(key, bytes('x'))).rejects.toThrow(InvalidObjectKeyError);
  });
});
