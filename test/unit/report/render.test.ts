import { describe, expect, it } from 'vitest';
import { loadDomain } from '../../../functions/core/index.ts';
import { renderReport, reportChartIds } from '../../../functions/report/index.ts';
import { sampleReportData } from './sample-data.ts';

describe('HTML report', () => {
  it.each([
    'payments',
    'iot',
    'shop',
  ])('contains one SVG per chart of the %s domain, in page order', (name) => {
    // Prepare
    const domain = loadDomain(name);
    const data = sampleReportData(3, domain);

    // Act
    const html = renderReport({ generatedAt: '2026-01-15T12:00:00Z' }, data);

    // Assess
    const found = [...html.matchAll(/<svg[^>]*data-chart="([^"]+)"/g)].map((m) => m[1]);
    expect(found).toEqual(reportChartIds(domain));
    expect(found).toContain('quality');
  });

  it('draws the charts payments declares in its YAML, and none of them for iot', () => {
    // Act
    const payments = renderReport({ generatedAt: 'x' }, sampleReportData(3, loadDomain('payments')));
    const iot = renderReport({ generatedAt: 'x' }, sampleReportData(3, loadDomain('iot')));

    // Assess
    expect(payments).toContain('data-chart="top-merchants"');
    expect(payments).toContain('data-chart="countries"');
    expect(iot).not.toContain('data-chart="top-merchants"');
    expect(iot).toContain('data-chart="window-site_10m"');
  });

  it('shows each layer-count tile once when the run headline already has it', () => {
    // Act
    const html = renderReport(
      {
        generatedAt: 'x',
        headline: [
          { label: 'silver rows', value: 10 },
          { label: 'alerts', value: 2 },
        ],
      },
      sampleReportData(),
    );

    // Assess
    expect(html.match(/<span>silver rows<\/span>/g)).toHaveLength(1);
    expect(html.match(/<span>alerts<\/span>/g)).toHaveLength(1);
    expect(html.match(/<span>bronze rows<\/span>/g)).toHaveLength(1);
  });

  it('is self-contained: no script, stylesheet or image fetched from elsewhere', () => {
    // Prepare
    const data = sampleReportData();

    // Act
    const html = renderReport({ generatedAt: '2026-01-15T12:00:00Z' }, data);

    // Assess
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/);
  });

  it('escapes values that come from events, so a merchant id cannot inject markup', () => {
    // Prepare: the sample labels end in `<&>`
    const data = sampleReportData();

    // Act
    const html = renderReport({ generatedAt: '2026-01-15T12:00:00Z' }, data);

    // Assess
    expect(html).toContain('merchant_id-000&#60;&#38;&#62;');
    expect(html).not.toContain('merchant_id-000<&>');
  });

  it('shows the headline tiles it is given', () => {
    // Prepare
    const data = sampleReportData();

    // Act
    const html = renderReport(
      { generatedAt: '2026-01-15T12:00:00Z', headline: [{ label: 'events/s', value: 123456 }] },
      data,
    );

    // Assess
    expect(html).toContain('events/s');
    expect(html).toContain('<b>123k</b><span>events/s</span>');
  });
});
