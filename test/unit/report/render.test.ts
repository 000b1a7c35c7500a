import { describe, expect, it } from 'vitest';
import { REPORT_CHARTS, renderReport } from '../../../functions/report/index.ts';
import { sampleReportData } from './sample-data.ts';

describe('HTML report', () => {
  it('contains one SVG per chart, in page order', () => {
    // Prepare
    const data = sampleReportData();

    // Act
    const html = renderReport({ generatedAt: '2026-01-15T12:00:00Z' }, data);

    // Assess
    const found = [...html.matchAll(/<svg[^>]*data-chart="([^"]+)"/g)].map((m) => m[1]);
    expect(found).toEqual([...REPORT_CHARTS]);
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
    // Prepare: the sample merchant ids end in `<&>`
    const data = sampleReportData();

    // Act
    const html = renderReport({ generatedAt: '2026-01-15T12:00:00Z' }, data);

    // Assess
    expect(html).toContain('merchant-000&#60;&#38;&#62;');
    expect(html).not.toContain('merchant-000<&>');
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
