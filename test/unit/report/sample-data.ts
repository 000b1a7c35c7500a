import type { ReportData } from '../../../functions/report/index.ts';
import { random } from '../lakehouse/fixtures.ts';

/** A report's data for two hours of a busy run: three event types, four patterns, ten merchants. */
export function sampleReportData(seed = 3): ReportData {
  const rnd = random(seed);
  const start = Date.UTC(2026, 0, 15, 10, 0, 0);
  const ts = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const eventsPerMinute = [];
  for (let m = 0; m < 120; m++) {
    for (const [eventType, base] of [
      ['transaction', 900],
      ['login', 300],
      ['page_view', 500],
    ] as const) {
      eventsPerMinute.push({
        minute: ts(start + m * 60_000),
        eventType,
        count: Math.round(base * (0.8 + rnd() * 0.4)),
      });
    }
  }
  const alertsByHour = [];
  for (let h = 0; h < 2; h++) {
    for (const pattern of ['velocity_spike', 'amount_anomaly', 'impossible_travel', 'rapid_fire_burst']) {
      alertsByHour.push({ hour: ts(start + h * 3_600_000), pattern, count: 1 + Math.floor(rnd() * 40) });
    }
  }
  return {
    eventsPerMinute,
    alertsByHour,
    topMerchants: Array.from({ length: 10 }, (_, i) => ({
      merchantId: `merchant-${String(i).padStart(3, '0')}<&>`,
      revenueUsd: Math.round(90_000 / (i + 1)),
      transactions: 800 - i * 50,
    })),
    countries: [
      { country: 'US', revenueUsd: 120_000, transactions: 4000 },
      { country: 'DE', revenueUsd: 60_000, transactions: 2100 },
      { country: 'JP', revenueUsd: 30_500.5, transactions: 900 },
      { country: 'unknown', revenueUsd: 12_000, transactions: 700 },
    ],
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
