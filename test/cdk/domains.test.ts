/**
 * An environment deploys its domain (SPEC §8): the Glue tables and Athena views follow the domain's
 * YAML, here the `shop` domain (clickstream and orders), which was written without code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDomain } from '../../functions/core/index.ts';
import { loadEnvironmentConfig } from '../../lib/config/environment-config.ts';
import { decodePrestoView } from '../../lib/lakehouse/athena-views.ts';
import { type SynthesizedEnvironment, synthEnvironment } from './support/synth.ts';

type TableInput = {
  Name: string;
  TableType?: string;
  ViewOriginalText?: string;
  StorageDescriptor: { Columns: { Name: string; Type: string }[] };
};

let shop: SynthesizedEnvironment;

beforeAll(() => {
  // Synthesis runs cdk-nag AwsSolutions: it throws on any unacknowledged finding.
  shop = synthEnvironment('dev', { config: { ...loadEnvironmentConfig('dev'), domain: 'shop' } });
});

function tableInputs(): TableInput[] {
  return Object.values(
    shop.template('Lakehouse').findResources('AWS::Glue::Table') as Record<
      string,
      { Properties: { TableInput: TableInput } }
    >,
  ).map((r) => r.Properties.TableInput);
}

describe('an environment of the shop domain', () => {
  it("declares the domain's own gold tables in Glue, and no payments table", () => {
    // Act
    const tables = tableInputs()
      .filter((t) => t.TableType !== 'VIRTUAL_VIEW')
      .map((t) => t.Name);

    // Assess
    expect(tables).toEqual(
      expect.arrayContaining(['events', 'window_funnel_1m', 'window_carts_15m', 'visits', 'alerts']),
    );
    expect(tables).not.toContain('window_sliding_5m');
    expect(tables).not.toContain('sessions');
  });

  it('deploys exactly the views of the shop domain, with the columns the view declares', () => {
    // Act
    const views = tableInputs().filter((t) => t.TableType === 'VIRTUAL_VIEW');

    // Assess
    const domain = loadDomain('shop');
    expect(views.map((v) => v.Name).sort()).toEqual(domain.views.map((v) => v.name).sort());
    expect(views.map((v) => v.Name)).not.toContain('merchant_revenue');
    const funnel = views.find((v) => v.Name === 'funnel_conversion')!;
    const json = decodePrestoView(funnel.ViewOriginalText ?? '');
    expect(json.schema).toBe('tidewater_dev');
    expect(json.originalSql).toContain('FROM window_funnel_1m');
    expect(funnel.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(
      domain.views.find((v) => v.name === 'funnel_conversion')!.columns.map((c) => c.name),
    );
  });

  it('tells the consumers which domain to load', () => {
    // Act
    const functions = shop.template('Processing').findResources('AWS::Lambda::Function') as Record<
      string,
      { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
    >;

    // Assess
    const domains = Object.values(functions)
      .map((f) => f.Properties.Environment?.Variables?.['TIDEWATER_DOMAIN'])
      .filter((d) => d !== undefined);
    expect(domains.length).toBeGreaterThan(0);
    expect(new Set(domains)).toEqual(new Set(['shop']));
  });
});
