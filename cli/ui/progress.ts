/**
 * A one-line progress bar for long work, on a stream (stderr). Drawn only when the stream is a
 * terminal and not disabled; redrawn at most every `intervalMs`; `done()` clears the line so the
 * summary that follows starts clean.
 */
export interface ProgressBarOptions {
  /** @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** Draw nothing (e.g. `--json`). @default false */
  readonly quiet?: boolean;
  /** @default 100 */
  readonly intervalMs?: number;
  /** Bar width in characters. @default 28 */
  readonly width?: number;
}

export interface ProgressState {
  /** 0..1, or undefined when unknown. */
  readonly fraction: number | undefined;
  /** Items done, e.g. events. */
  readonly count: number;
  readonly elapsedMs: number;
  /** @default 'events' */
  readonly unit?: string;
}

/** `1,234,567` */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `850 ms`, `12.3 s`, `2 min 05 s` */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** `98.2k/s`, `1.25M/s`, `950/s` */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${Math.round(perSecond)}/s`;
}

/** The text of one progress line (without control characters). */
export function progressLine(state: ProgressState, width = 28): string {
  const unit = state.unit ?? 'events';
  const rate = state.elapsedMs > 0 ? (state.count * 1000) / state.elapsedMs : 0;
  const parts: string[] = [];
  if (state.fraction !== undefined) {
    const f = Math.max(0, Math.min(1, state.fraction));
    const filled = Math.round(f * width);
    parts.push(
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`,
      `${String(Math.floor(f * 100)).padStart(3)}%`,
    );
  }
  parts.push(`${formatCount(state.count)} ${unit}`, formatRate(rate));
  if (state.fraction !== undefined && state.fraction > 0.02 && state.fraction < 1) {
    parts.push(`ETA ${formatDuration((state.elapsedMs * (1 - state.fraction)) / state.fraction)}`);
  }
  return parts.join('  ');
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly intervalMs: number;
  private readonly width: number;
  private last = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.quiet !== true && this.stream.isTTY === true;
    this.intervalMs = options.intervalMs ?? 100;
    this.width = options.width ?? 28;
  }

  /** True when the bar draws anything. */
  get active(): boolean {
    return this.enabled;
  }

  update(state: ProgressState): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    const columns = this.stream.columns ?? 100;
    this.stream.write(`\r${progressLine(state, this.width).slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line. */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
