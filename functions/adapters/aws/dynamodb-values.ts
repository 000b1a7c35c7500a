/** DynamoDB attribute values, and the state table's TTL attribute. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The state table's TTL attribute (epoch seconds); the CDK side is `lib/stacks/state-stack.ts`.
 * Partition-owned state writes no item with it; items of the 0.1 layout (per event id and per CEP
 * key) still expire by it after an upgrade.
 */
export const TTL_ATTRIBUTE = 'expires_at';

export const S = (s: string): AttributeValue => ({ S: s });
export const N = (n: number): AttributeValue => ({ N: String(n) });
