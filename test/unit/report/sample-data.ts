import { type Domain, loadDomain } from '../../../functions/core/index.ts';
import type { ChartPoint, ReportData } from '../../../functions/report/index.ts';
import { random } from '../lakehouse/fixtures.ts';

/**
 * A report's data for two hours of a busy run of `domain`: for every chart of the domain, points
 * of its shape (time series for line/stacked charts, ten labels for bars; labels end in `<&>` to
 * test escaping).
 */
export function sampleReportData(seed = 3, domain: Domain = loadDomain('payments')): ReportData {
  const rnd = random(seed);
  const start = Date.UTC(2026, 0, 15, 10, 0, 0);
  const ts = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const charts = domain.charts.map((spec) => {
    const points: ChartPoint[] = [];
    if (spec.type === 'bar') {
      for (let i = 0; i < 10; i++)
        points.push({
          x: '',
          series: '',
          label: `${spec.label}-${String(i).padStart(3, '0')}<&>`,
          value: Math.round(90_000 / (i + 1)),
        });
    } else {
      const step = spec.type === 'stacked' ? 3_600_000 : 60_000;
      const n = spec.type === 'stacked' ? 2 : 120;
      for (let m = 0; m < n; m++)
        for (const series of spec.series === null ? [spec.value] : ['a', 'b', 'c'])
          points.push({
            x: ts(start + m * step),
            series,
            label: '',
            value: Math.round(500 * (0.8 + rnd() * 0.4)),
          });
    }
    return { spec, points };
  });
  return {
    domain: domain.name,
    charts,
    quality: {
      bronzeRows: 204_000,
      silverRows: 200_000,
      poisonRecords: 3_000,
      duplicateRecords: 1_000,
      lateEvents: 250,
      lateEventRows: 600,
      alertRows: 190,
      conservationOk: true,
    },
  };
}
