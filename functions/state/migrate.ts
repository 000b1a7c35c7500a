/**
 * Upgrade of the state written before partition-owned state (Tidewater 0.1) to the layout of
 * `partition-state.ts`; `tidewater state migrate` runs it. The consumers refuse the old layout
 * (`LegacyStateError`), so run it once, with the consumers stopped (event source mappings
 * disabled), before the new consumers start.
 *
 * What it converts, per (consumer, topic, partition), keeping every fence and source fence:
 * - enrich: the seen ids, one DynamoDB item each (`dedup#<topic>#<p>` / `<id>`), become the
 *   partition's hashed seen-set (each id at the event time of its last committed occurrence);
 * - cep: the key states, one item each (`cep#<topic>#<p>` / `<key>`), become the partition's key
 *   states (each as of the partition's committed offset, as the old consumer read them);
 * - windows: each partition's sessions state becomes its sessions engine; the shared fixed
 *   windows (already merged across partitions) go to the lowest partition's engine, whose
 *   partials then carry them into the merge, while every partition starts its own engine at the
 *   watermark the shared state held for it.
 * The old items are left in place (the per-id and per-key items expire by their TTL; the shared
 * windows item and leases can be deleted by hand once the new consumers run).
 */
import {
  type CepKeyState,
  type CepState,
  type Domain,
  HashedDedupSet,
  idHash,
  stateAsOf,
  type Versioned,
  WindowEngine,
  type WindowState,
} from '../core/index.ts';
import { cepCodec, dedupCodec, type WindowsPartitionState, windowDomains, windowsCodec } from './codecs.ts';
import type { Manifest, StateCodec } from './partition-state.ts';
import type { FencedTable, ObjectStoreWithDelete, StateId, StateRecord } from './table.ts';

/** What the migration reads besides the fenced records: the items of a partition key. */
export interface LegacyItems {
  /** Every state record's scope of a consumer: `[topic, scope]`. */
  scopes(consumer: string): Promise<Array<readonly [string, string]>>;
  /** The items of partition key `pk` as `[sort key, attributes as plain JSON]`. */
  items(pk: string): Promise<Array<readonly [string, Record<string, unknown>]>>;
}

export interface MigrationReport {
  /** `consumer/topic/scope` → what was converted. */
  readonly converted: Record<string, string>;
  /** Already in the new layout (or empty): left alone. */
  readonly skipped: string[];
}

const NOT_YET = -8_640_000_000_000_000;

function isLegacy(rec: StateRecord<unknown>): boolean {
  if (rec.version === 0) return false;
  const m = rec.state as Partial<Manifest> | undefined;
  // (A new-layout manifest may be spilled to S3 too: what decides is its layout.)
  return m === undefined || m === null || m.layout !== 2;
}

async function write<S>(
  table: FencedTable,
  objects: ObjectStoreWithDelete,
  id: StateId,
  rec: StateRecord<unknown>,
  codec: StateCodec<S>,
  state: S,
  meta: Record<string, number> = {},
): Promise<void> {
  const key = `ops/state/${id.consumer}/${id.topic}/${id.scope}/migrated-v${rec.version}.snapshot`;
  const bytes = codec.encodeSnapshot(state);
  await objects.put(key, bytes);
  const manifest: Manifest = {
    layout: 2,
    kind: codec.kind,
    snapshot: { key, bytes: bytes.byteLength },
    deltas: [],
    garbage: [],
    meta,
  };
  // Conditional on the version read: a consumer still running makes this fail instead of racing.
  await table.commit(id, rec.version, { state: manifest, fences: rec.fences, sources: rec.sources });
}

export async function migrateLegacyState(
  table: FencedTable,
  objects: ObjectStoreWithDelete & { get(key: string): Promise<Uint8Array | undefined> },
  legacy: LegacyItems,
  domain: Domain,
): Promise<MigrationReport> {
  const converted: Record<string, string> = {};
  const skipped: string[] = [];
  const load = (id: StateId) => table.load<unknown>(id);

  for (const [topic, scope] of await legacy.scopes('enrich')) {
    const id = { consumer: 'enrich', topic, scope };
    const rec = await load(id);
    if (!isLegacy(rec)) {
      skipped.push(`enrich/${topic}/${scope}`);
      continue;
    }
    const fence = rec.fences[scope] ?? null;
    const seen: Array<[string, number]> = [];
    for (const [sk, item] of await legacy.items(`dedup#${topic}#${scope}`)) {
      const occ = ((item['occ'] as Array<[number, number]> | undefined) ?? [])
        .map(([offset, ts]) => ({ offset, ts }))
        .filter((o) => fence !== null && o.offset <= fence);
      const last = occ[occ.length - 1];
      if (last !== undefined) seen.push([sk, last.ts]);
    }
    seen.sort((a, b) => a[1] - b[1]);
    const set = new HashedDedupSet(domain);
    for (const [sk, ts] of seen) set.isDuplicate(idHash(sk), ts);
    await write(table, objects, id, rec, dedupCodec(domain), set);
    converted[`enrich/${topic}/${scope}`] = `${set.size} ids`;
  }

  for (const [topic, scope] of await legacy.scopes('cep')) {
    const id = { consumer: 'cep', topic, scope };
    const rec = await load(id);
    if (!isLegacy(rec)) {
      skipped.push(`cep/${topic}/${scope}`);
      continue;
    }
    const fence = rec.fences[scope] ?? null;
    const keys = new Map<string, CepKeyState>();
    for (const [sk, item] of await legacy.items(`cep#${topic}#${scope}`)) {
      // The 0.1 item: `st` (JSON), `ap` (its offset), `pst`/`pap` (the state before uncommitted attempts).
      const versioned: Versioned<CepKeyState> = {
        state: JSON.parse(String(item['st'])) as CepKeyState,
        applied: Number(item['ap']),
        prev: item['pst'] === undefined ? null : (JSON.parse(String(item['pst'])) as CepKeyState),
        prevApplied: item['pap'] === undefined ? null : Number(item['pap']),
      };
      const s = stateAsOf(versioned, fence);
      if (s !== null) keys.set(sk, s);
    }
    const maxTs = (rec.state as CepState | undefined)?.maxTs ?? null;
    await write(table, objects, id, rec, cepCodec(), { keys, maxTs });
    converted[`cep/${topic}/${scope}`] = `${keys.size} keys`;
  }

  const windowScopes = await legacy.scopes('windows');
  const topics = new Set(windowScopes.map(([t]) => t));
  const split = windowDomains(domain);
  for (const topic of topics) {
    const shared = await load({ consumer: 'windows', topic, scope: '*' });
    const sharedState = shared.state as WindowState | undefined;
    const watermarks = sharedState?.partitions ?? {};
    const partitions = windowScopes
      .filter(([t, s]) => t === topic && s !== '*')
      .map(([, s]) => Number(s))
      .sort((a, b) => a - b);
    for (const [i, p] of partitions.entries()) {
      const id = { consumer: 'windows', topic, scope: String(p) };
      const rec = await load(id);
      if (!isLegacy(rec)) {
        skipped.push(`windows/${topic}/${p}`);
        continue;
      }
      const sessions = rec.state as WindowState | undefined;
      if ((shared.fences[String(p)] ?? null) !== (rec.fences[String(p)] ?? null)) {
        throw new Error(
          `windows ${topic} partition ${p}: the shared fixed windows are at offset ${String(shared.fences[String(p)])} ` +
            `and the sessions at ${String(rec.fences[String(p)])}: let the old windows consumer catch up ` +
            '(no failed batch pending), then migrate',
        );
      }
      const pid = Object.keys(watermarks).find((k) => k.endsWith(`-${p}`));
      const own = pid === undefined ? undefined : watermarks[pid];
      const fixed: WindowState = {
        version: 1,
        partitions: pid !== undefined && own !== undefined && own !== NOT_YET ? { [pid]: own } : {},
        fixed: i === 0 ? (sharedState?.fixed ?? {}) : {},
        sessions: {},
      };
      const state: WindowsPartitionState = {
        fixed: new WindowEngine(split.fixed, fixed),
        sessions: new WindowEngine(split.sessions, {
          version: 1,
          partitions: { ...watermarks, ...(sessions?.partitions ?? {}) },
          fixed: {},
          sessions: sessions?.sessions ?? {},
        }),
        merged: {},
      };
      const starts = Object.values(fixed.fixed).flatMap((l) => l.map(([start]) => start));
      const first =
        starts.length > 0 ? Math.min(...starts) : own !== undefined && own !== NOT_YET ? own : undefined;
      const meta: Record<string, number> =
        own !== undefined && own !== NOT_YET
          ? { max: own, last: own, ...(first !== undefined ? { first } : {}) }
          : {};
      await write(table, objects, id, rec, windowsCodec(domain), state, meta);
      converted[`windows/${topic}/${p}`] =
        `sessions${i === 0 ? ` + the shared fixed windows (${starts.length} partials)` : ''}`;
    }
  }
  return { converted, skipped };
}
