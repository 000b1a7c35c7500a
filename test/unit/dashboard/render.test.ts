import { describe, expect, it } from 'vitest';
import { evaluateArithmetic } from '../../../cli/dashboard/fetch.ts';
import { type DashboardBody, renderDashboard, type Series } from '../../../cli/dashboard/render.ts';
import { emfDocument } from '../../../functions/commons/powertools.ts';
import { emfToMetricData } from '../../../localstack/esm/cloudwatch.ts';

const T = Date.UTC(2026, 11, 4, 12);
const body: DashboardBody = {
  widgets: [
    {
      type: 'text',
      x: 0,
      y: 0,
      width: 24,
      height: 2,
      properties: { markdown: '# Tidewater — local\nConsumers <and> lag' },
    },
    {
      type: 'metric',
      x: 0,
      y: 2,
      width: 12,
      height: 6,
      properties: {
        title: 'Event time to output (ms)',
        metrics: [
          ['Tidewater', 'EventToOutputLatency', 'Consumer', 'cep', { label: 'cep p99', stat: 'p99' }],
        ],
        annotations: { horizontal: [{ value: 3000, label: 'alarm: p99 event to alert' }] },
      },
    },
    { type: 'metric', x: 12, y: 2, width: 12, height: 6, properties: { title: 'Throttles', metrics: [] } },
    {
      type: 'alarm',
      x: 0,
      y: 8,
      width: 24,
      height: 4,
      properties: {
        title: 'Alarms',
        alarms: ['arn:aws:cloudwatch:us-east-1:0:alarm:A', 'arn:aws:cloudwatch:us-east-1:0:alarm:B'],
      },
    },
  ],
};

describe('the dashboard page', () => {
  it('draws every widget of the body in its grid place: text, charts with their points and annotations, alarms with their state', () => {
    // Prepare
    const series: Series = { label: 'cep p99', timestamps: [T, T + 300_000], values: [900, 1_200] };
    // Act
    const html = renderDashboard({
      title: 'Tidewater — local',
      body,
      data: new Map([
        [1, { series: [series] }],
        [2, { series: [] }],
      ]),
      alarms: new Map([
        ['arn:aws:cloudwatch:us-east-1:0:alarm:A', { name: 'A', state: 'ALARM', reason: 'p99 1200 >= 1000' }],
      ]),
      from: T - 600_000,
      to: T + 600_000,
      generatedAt: T,
    });
    // Assess
    expect(html.match(/<section class="widget /g)).toHaveLength(4);
    expect(html).toContain('<h1>Tidewater — local</h1><p>Consumers &#60;and&#62; lag</p>');
    expect(html).toMatch(
      /data-points="2" data-series="1" style="grid-column:1 \/ span 12;grid-row:3 \/ span 6"/,
    );
    expect(html.match(/<circle class="point"/g)).toHaveLength(2);
    expect(html).toContain('alarm: p99 event to alert');
    expect(html).toMatch(/data-points="0" data-series="0"[\s\S]*no data points in this period/);
    expect(html).toMatch(/data-state="ALARM"><b>ALARM<\/b> A<br><small>p99 1200 &#62;= 1000/);
    expect(html).toMatch(/data-state="UNKNOWN"><b>UNKNOWN<\/b> B/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3)/);
  });

  it('evaluates the arithmetic of hidden metrics, aligned by timestamp', () => {
    // Prepare
    const byId = new Map<string, Series>([
      ['r', { label: 'r', timestamps: [T, T + 300_000], values: [1, 2] }],
      ['w', { label: 'w', timestamps: [T + 300_000], values: [10] }],
    ]);
    // Act + Assess
    expect(evaluateArithmetic('r + w', byId)).toEqual({
      label: '',
      timestamps: [T, T + 300_000],
      values: [1, 12],
    });
    expect(evaluateArithmetic('w / 5 - r', byId)?.values).toEqual([-1, 0]);
    expect(evaluateArithmetic('SEARCH(x)', byId)).toBeUndefined();
  });

  it('turns an EMF document into PutMetricData: every dimension, the unit, and value arrays as Values and Counts', () => {
    // Prepare
    const emf = emfDocument(
      'EventToOutputLatency',
      'Milliseconds',
      { Environment: 'local', Consumer: 'cep' },
      [5, 7, 5],
      T,
    );
    // Act
    const [put] = emfToMetricData(emf);
    // Assess
    expect(put?.namespace).toBe('Tidewater');
    expect(put?.data).toEqual([
      {
        MetricName: 'EventToOutputLatency',
        Dimensions: [
          { Name: 'service', Value: 'tidewater' },
          { Name: 'Environment', Value: 'local' },
          { Name: 'Consumer', Value: 'cep' },
        ],
        Unit: 'Milliseconds',
        Timestamp: new Date(T),
        Values: [5, 7],
        Counts: [2, 1],
      },
    ]);
  });
});
