/** `ops/batch_quality`: defined in the core, where the domain's generated views read it. */
export { BATCH_QUALITY } from '../core/batch-quality.ts';
