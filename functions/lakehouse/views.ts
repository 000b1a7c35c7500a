/**
 * The SQL views of a domain: one source for Athena (Trino) and DuckDB. They are part of the domain
 * (`Domain.views`, `functions/core/views.ts`): generated from its YAML, plus the view files and
 * inline views it declares. This module re-exports the parser for tools and tests.
 */
import type { Domain, ViewDefinition } from '../core/index.ts';

export { parseViewText, type ViewColumn, type ViewDefinition } from '../core/index.ts';

/** The views of a domain, generated ones first. */
export function domainViews(domain: Domain): readonly ViewDefinition[] {
  return domain.views;
}
