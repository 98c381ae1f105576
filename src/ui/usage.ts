// The usage history behind the sparklines: what GET /v1/usage sends (the engine's last 15
// minutes, then each new 10 s sample), kept per unit and bounded like the engine's. Paths are
// drawn once per sample, not once per render: the table re-renders every second.
import type { UsageTick } from '../api/protocol.js';
import { formatBytes } from '../cli/render/notice.js';
import { percent } from './format.js';
import { SPARK_WINDOW_MS, sparkPath } from './spark.js';

/** 15 minutes of 10 s samples, as the engine keeps. */
const KEEP = 90;
/** A CPU line this low or lower stays near the bottom: an idle unit should look idle. */
const CPU_FLOOR = 10;

interface Series {
  readonly at: number[];
  readonly cpu: number[];
  readonly mem: number[];
}

export interface UnitSparks {
  readonly cpu: string;
  readonly mem: string;
  readonly cpuLabel: string;
  readonly memLabel: string;
}

export class UsageHistory {
  private readonly series = new Map<string, Series>();
  private readonly drawn = new Map<string, UnitSparks>();
  private newest = 0;

  add(tick: UsageTick): void {
    this.newest = Math.max(this.newest, tick.at);
    for (const [unit, [cpu, mem]] of Object.entries(tick.units)) {
      let series = this.series.get(unit);
      if (series === undefined) this.series.set(unit, (series = { at: [], cpu: [], mem: [] }));
      series.at.push(tick.at);
      series.cpu.push(cpu);
      series.mem.push(mem);
    }
    const oldest = this.newest - SPARK_WINDOW_MS;
    for (const [unit, series] of this.series) {
      let drop = 0;
      while (drop < series.at.length && ((series.at[drop] ?? 0) < oldest || series.at.length - drop > KEEP)) drop += 1;
      series.at.splice(0, drop);
      series.cpu.splice(0, drop);
      series.mem.splice(0, drop);
      if (series.at.length === 0) this.series.delete(unit); // a unit gone (scaled down) for 15 minutes
    }
    this.drawn.clear();
  }

  clear(): void {
    this.series.clear();
    this.drawn.clear();
    this.newest = 0;
  }

  /** The unit's two sparklines, or null before its first sample. */
  sparks(unit: string): UnitSparks | null {
    const cached = this.drawn.get(unit);
    if (cached !== undefined) return cached;
    const series = this.series.get(unit);
    if (series === undefined) return null;
    const cpuPeak = Math.max(...series.cpu);
    const memPeak = Math.max(...series.mem);
    const sparks = {
      cpu: sparkPath(series.at, series.cpu, this.newest, Math.max(cpuPeak, CPU_FLOOR)),
      mem: sparkPath(series.at, series.mem, this.newest, Math.max(memPeak, 1)),
      cpuLabel: `CPU, last 15 minutes: peak ${percent(cpuPeak)}`,
      memLabel: `Memory, last 15 minutes: peak ${formatBytes(memPeak)}`,
    };
    this.drawn.set(unit, sparks);
    return sparks;
  }
}
