import { describe, expect, it } from 'vitest';
import { unappliedRecords } from '../../../functions/core/index.ts';
import { interpretResponse, type PolledRecord } from '../../../localstack/esm/event.ts';

describe('the partial batch response of a failed partition', () => {
  it('names every record from the first unapplied one to the end of the partition, in offset order', () => {
    // Act
    const items = unappliedRecords('t-3', [14, 12, 10, 11, 13], 12);
    // Assess
    expect(items).toEqual([12, 13, 14].map((offset) => ({ itemIdentifier: { partition: 't-3', offset } })));
  });

  it('names the whole batch when no start is given', () => {
    expect(unappliedRecords('t-0', [5, 6]).map((i) => i.itemIdentifier.offset)).toEqual([5, 6]);
  });

  it('is read by the local event source mapping as a retry from the first reported record', () => {
    // Prepare: a batch of offsets 10..14 of t-0.
    const batch: PolledRecord[] = [10, 11, 12, 13, 14].map((offset) => ({
      topic: 't',
      partition: 0,
      offset,
      timestamp: 0,
      key: null,
      value: null,
      headers: [],
    }));
    // Act
    const result = interpretResponse(
      { batchItemFailures: unappliedRecords('t-0', [10, 11, 12, 13, 14], 12) },
      true,
      batch,
    );
    // Assess
    expect(result).toEqual({ kind: 'partial', failedFrom: new Map([['t-0', 12]]) });
  });
});
