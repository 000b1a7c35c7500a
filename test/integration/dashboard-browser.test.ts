/**
 * `tidewater dashboard` after a local run: the local environment's synthesized dashboard body, every
 * widget drawn in headless Chromium, with data points from the emulator's CloudWatch (the
 * consumers' EMF metrics and the AWS service metrics the local run puts there), and the alarms
 * with their state.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDashboard, synthesizedDashboard } from '../../cli/dashboard/fetch.ts';
import type { DashboardBody } from '../../cli/dashboard/render.ts';
import { describeDeployed } from '../../localstack/esm/deploy.ts';
import { stageAssemblyDir } from '../../localstack/esm/template.ts';

const root = resolve(import.meta.dirname, '../..');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

function chromiumPath(): string {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return execFileSync('bash', [join(root, 'scripts/install-chromium.sh')], { encoding: 'utf8' }).trim();
}

const tidewater = (...args: string[]) =>
  execFileSync(process.execPath, [join(root, 'bin/tidewater.js'), ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });

describe('tidewater dashboard after a local run, in headless Chromium', () => {
  let dir: string;
  let browser: Browser;
  let body: DashboardBody;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tidewater-dashboard-'));
    tidewater('run', '--stack', 'local', '--generate', '3000', '--out', join(dir, 'lakehouse'), '--json');
    tidewater('dashboard', '--out', join(dir, 'dashboard.html'));
    const { stackName, body: raw } = synthesizedDashboard(stageAssemblyDir(join(root, 'cdk.out'), 'local'));
    const state = await describeDeployed([
      stackName,
      stackName.replace(/Observability$/, 'Processing'),
      stackName.replace(/Observability$/, 'State'),
    ]);
    body = resolveDashboard(raw, stackName, state);
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws every widget of the synthesized body, with data points, and the alarms with their state', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });

    // Act
    await page.goto(pathToFileURL(join(dir, 'dashboard.html')).href);
    const widgets = await page.$$eval('section.widget', (sections) =>
      sections.map((s) => {
        const box = s.getBoundingClientRect();
        const svg = s.querySelector('svg')?.getBoundingClientRect();
        return {
          type: s.getAttribute('data-type'),
          title: s.querySelector('h2')?.textContent ?? '',
          width: box.width,
          height: box.height,
          chart: svg === undefined ? 0 : svg.width * svg.height,
          points: Number(s.getAttribute('data-points') ?? 0),
          drawnPoints: s.querySelectorAll('circle.point').length,
          alarms: [...s.querySelectorAll('li[data-state]')].map((li) => li.getAttribute('data-state')),
        };
      }),
    );

    // Assess: the body's widgets, in order, each with a size
    expect(widgets.map((w) => w.type)).toEqual(body.widgets.map((w) => w.type));
    expect(widgets.map((w) => w.title)).toEqual(body.widgets.map((w) => w.properties.title ?? ''));
    for (const w of widgets) {
      expect(w.width, w.title).toBeGreaterThan(100);
      expect(w.height, w.title).toBeGreaterThan(40);
    }
    const metric = widgets.filter((w) => w.type === 'metric');
    expect(metric.length).toBeGreaterThan(10);
    for (const w of metric) {
      expect(w.chart, w.title).toBeGreaterThan(10_000);
      expect(w.points, w.title).toBeGreaterThan(0);
      expect(w.drawnPoints, w.title).toBe(w.points);
    }
    const alarms = widgets.find((w) => w.type === 'alarm')?.alarms ?? [];
    expect(alarms.length).toBe(body.widgets.find((w) => w.type === 'alarm')?.properties.alarms?.length);
    expect(alarms.length).toBeGreaterThan(10);
    for (const state of alarms) expect(['OK', 'ALARM', 'INSUFFICIENT_DATA']).toContain(state);
    expect(requests).toEqual([]);
  });
});
