import {
  type CepKeyState,
  type KafkaBatchResponse,
  type LambdaKafkaEvent,
  layerSchemas,
  type Versioned,
} from '../../core/index.ts';
import { CepStage } from '../../pipeline/cep.ts';
import { CONSUMERS } from '../../pipeline/context.ts';
import type { KeyStateStore } from '../../ports/key-state-store.ts';
import { AttemptStateStore } from '../../state/attempt-state.ts';
import { type CepPartitionState, cepCodec, encodeCepDelta } from '../../state/codecs.ts';
import type { OutboxChange } from '../../state/partition-state.ts';
import {
  type CepDeps,
  decodeEnriched,
  deferRows,
  flushOutboxes,
  fresh,
  pastFences,
  perPartition,
  rangeOf,
  runOnState,
  sendLetters,
  stageContext,
} from './partitions.ts';

/**
 * The partition's key states as the cep stage's `KeyStateStore`: loads answer from the committed
 * state (as of `committed`: each item's one version is committed), saves go into the state and
 * the batch's delta.
 */
function partitionKeys(
  state: CepPartitionState,
  committed: number,
  changed: Map<string, CepKeyState>,
): KeyStateStore<CepKeyState> {
  return {
    async load(_at, keys) {
      const out = new Map<string, Versioned<CepKeyState>>();
      for (const k of keys) {
        const s = state.keys.get(k);
        if (s !== undefined) out.set(k, { state: s, applied: committed, prev: null, prevApplied: null });
      }
      return out;
    },
    async save(_at, items) {
      for (const [k, item] of items) {
        state.keys.set(k, item.state);
        changed.set(k, item.state);
      }
    },
  };
}

/**
 * cep: enriched → alerts topic + gold/alerts. State: the partition's key states (SPEC §4), and its
 * gold/alerts rows not written yet (the outbox; {@link flushCep} writes them at a run's end).
 */
export async function cep(deps: CepDeps, event: LambdaKafkaEvent): Promise<KafkaBatchResponse> {
  const codec = cepCodec();
  return perPartition(deps, event, async (b) => {
    await runOnState(
      deps,
      { consumer: CONSUMERS.cep, topic: b.topic, scope: String(b.partition) },
      codec,
      async ({ loaded, state, out, outbox }) => {
        const committed = loaded.fences[String(b.partition)];
        const records = fresh(b.records, committed);
        if (records.length === 0) return undefined;
        const decoded = pastFences(decodeEnriched(deps.domain, records, 'enriched'), loaded.sources);
        const source = rangeOf(b, records);
        if (decoded.letters.length > 0) await sendLetters(deps, source, decoded.letters);
        const store = new AttemptStateStore(loaded, {
          version: 1,
          keys: {},
          ...(state.maxTs === null ? {} : { maxTs: state.maxTs }),
        });
        const changed = new Map<string, CepKeyState>();
        const keys = partitionKeys(state, committed ?? -1, changed);
        const ctx = stageContext(deps, out, store, { cepKeys: keys });
        const stage = await CepStage.open(ctx, { topic: b.topic, partition: b.partition });
        await stage.apply({ source, events: decoded.events });
        // gold/alerts rows are deferred in the partition's outbox (written about once a minute);
        // the alerts topic has them at once.
        let change: OutboxChange | undefined;
        await stage.commit(async (schema, rows, range) => {
          const d = await deferRows(ctx, outbox, [{ schema, rows }], range);
          change = d.change;
          return d.written;
        });
        const maxTs = (store.saved?.state as { maxTs?: number } | undefined)?.maxTs;
        if (maxTs !== undefined) state.maxTs = maxTs;
        return {
          delta: encodeCepDelta(state.maxTs, changed),
          ...(change === undefined ? {} : { outbox: change }),
          fences: { ...loaded.fences, [String(b.partition)]: store.savedOffset('cep') },
          sources: decoded.sources,
        };
      },
    );
  });
}

/** Writes the gold/alerts rows every partition of `topic` holds deferred (the end of a run). */
export async function flushCep(deps: CepDeps, topic: string, partitions: readonly number[]): Promise<number> {
  return flushOutboxes(deps, CONSUMERS.cep, cepCodec(), topic, partitions, [
    layerSchemas(deps.domain).alerts,
  ]);
}
