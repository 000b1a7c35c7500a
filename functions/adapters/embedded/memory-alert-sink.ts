import type { Row } from '../../core/index.ts';
import type { AlertSink } from '../../ports/alert-sink.ts';

/** `AlertSink` that counts alerts by pattern and severity (embedded runs), keeping the first few. */
export class MemoryAlertSink implements AlertSink {
  readonly byPattern = new Map<string, number>();
  readonly bySeverity = new Map<string, number>();
  readonly sample: Row[] = [];
  total = 0;
  private readonly keep: number;

  /** @param keep alerts kept in `sample` (@default 100) */
  constructor(keep = 100) {
    this.keep = keep;
  }

  async send(alerts: readonly Row[]): Promise<void> {
    for (const a of alerts) {
      const p = String(a['pattern']);
      const s = String(a['severity']);
      this.byPattern.set(p, (this.byPattern.get(p) ?? 0) + 1);
      this.bySeverity.set(s, (this.bySeverity.get(s) ?? 0) + 1);
      if (this.sample.length < this.keep) this.sample.push(a);
    }
    this.total += alerts.length;
  }
}
