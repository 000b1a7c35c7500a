import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDomain } from '../../functions/core/index.ts';
import { reportChartIds } from '../../functions/report/index.ts';

const root = resolve(import.meta.dirname, '../..');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's chromium, installed by the project's own script when it is missing. */
function chromiumPath(): string {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return execFileSync('bash', [join(root, 'scripts/install-chromium.sh')], { encoding: 'utf8' }).trim();
}

describe.each([
  'payments',
  'iot',
  'shop',
])('the HTML report of a real %s run, in headless Chromium', (domain) => {
  let dir: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidewater-report-'));
    execFileSync(
      process.execPath,
      [
        join(root, 'bin/tidewater.js'),
        'run',
        '--domain',
        domain,
        '--generate',
        '20000',
        '--seed',
        '11',
        '--out',
        join(dir, 'lakehouse'),
        '--report',
        join(dir, 'report.html'),
        '--json',
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders every chart of the domain with a size and data, and makes no network request', async () => {
    // Prepare
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });

    // Act
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    const charts = await page.$$eval('svg[data-chart]', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        const marks = svg.querySelectorAll('.mark');
        let drawn = 0;
        for (const m of marks) {
          // The project compiles without the DOM lib: describe the one SVG method used.
          const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          if (b.width > 0 || b.height > 0) drawn++;
        }
        return { id: svg.getAttribute('data-chart'), width: box.width, height: box.height, drawn };
      }),
    );

    // Assess
    expect(charts.map((c) => c.id)).toEqual(reportChartIds(loadDomain(domain)));
    for (const chart of charts) {
      expect(chart.width, chart.id ?? '').toBeGreaterThan(100);
      expect(chart.height, chart.id ?? '').toBeGreaterThan(50);
      // Every chart has data: at least one drawn mark (a bar, a line or a dot), never "no data".
      expect(chart.drawn, chart.id ?? '').toBeGreaterThan(0);
    }
    expect(requests).toEqual([]);
  });
});
