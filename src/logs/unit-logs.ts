// Service output to log files, for whichever process holds the pipes (the keeper, or the engine
// of a foreground `tend up`): one framer per unit and stream, one sink per log file (instances
// of a service share it), reopened when a spawn brings new rotation settings. A refused write
// is reported once and never stops anything.
import type { LogTarget, OutputStream } from '../host/host.js';
import { openFileSink, type FileSink } from './file-sink.js';
import { createFramer, type Framer } from './framer.js';

/** Output a unit lost while its log could not be written, so far. */
interface LogLoss {
  readonly lines: number;
  readonly bytes: number;
  readonly reason: string;
  /** Writing has resumed: these are the totals, and a marker line says so in the file. */
  readonly ended: boolean;
}

export interface UnitLogsOptions {
  readonly warn: (text: string) => void;
  /** Told when a unit starts losing output, and again when writing resumes. Never silent. */
  readonly onLoss?: (unit: string, loss: LogLoss) => void;
  readonly now?: () => number;
}

export function createUnitLogs({ warn, onLoss = () => {}, now = Date.now }: UnitLogsOptions) {
  const targets = new Map<string, LogTarget>();
  const framers = new Map<string, Framer>();
  const sinks = new Map<string, { settings: string; sink: FileSink }>();
  const warned = new Set<string>();
  const losses = new Map<string, { lines: number; bytes: number; reason: string }>();
  /** Lines and bytes (newlines included) each unit's log took, since this writer started. */
  const written = new Map<string, { lines: number; bytes: number }>();

  function warnOnce(key: string, error: unknown): void {
    if (warned.has(key)) return;
    warned.add(key);
    warn(error instanceof Error ? error.message : String(error));
  }

  function sinkOf(target: LogTarget): FileSink | null {
    const settings = `${target.maxSize}/${target.keep}/${target.compress === true}/${target.mode ?? 0o600}/${target.gid ?? ''}`;
    const open = sinks.get(target.file);
    if (open?.settings === settings) return open.sink;
    try {
      open?.sink.close();
      const sink = openFileSink({
        file: target.file,
        maxSize: target.maxSize,
        keep: target.keep,
        compress: target.compress === true,
        access: { mode: target.mode ?? 0o600, gid: target.gid },
        onRotateError: (error) => warnOnce(`rotate:${target.file}`, error),
      });
      sinks.set(target.file, { settings, sink });
      return sink;
    } catch (error) {
      warnOnce(`open:${target.file}`, error);
      return null;
    }
  }

  /**
   * Writes the lines to the unit's file and hands them back (for a terminal echo). Lines the
   * file refuses (a full disk) are counted; when writing works again, a marker line says how
   * many were lost and why, before the next lines.
   */
  function write(unit: string, stream: OutputStream, lines: Buffer[]): Buffer[] {
    const target = targets.get(unit);
    if (!target || lines.length === 0) return lines;
    const meta = { time: now(), instance: target.instance, stream };
    try {
      const sink = sinkOf(target);
      if (sink === null) throw new Error(`${target.file} cannot be opened`);
      const loss = losses.get(unit);
      if (loss !== undefined) {
        sink.write([Buffer.from(`[tend] ${loss.lines} lines (${loss.bytes} bytes) of output lost: ${loss.reason}`)], {
          ...meta,
          stream: 'err',
        });
        losses.delete(unit);
        onLoss(unit, { ...loss, ended: true });
      }
      sink.write(lines, meta);
      const count = written.get(unit) ?? { lines: 0, bytes: 0 };
      written.set(unit, { lines: count.lines + lines.length, bytes: count.bytes + lines.reduce((sum, line) => sum + line.length + 1, 0) });
    } catch (error) {
      warnOnce(`write:${target.file}`, error);
      const gone = lines.slice((error as { linesWritten?: number }).linesWritten ?? 0);
      const bytes = gone.reduce((sum, line) => sum + line.length + 1, 0);
      const loss = losses.get(unit);
      const next = { lines: (loss?.lines ?? 0) + gone.length, bytes: (loss?.bytes ?? 0) + bytes, reason: loss?.reason ?? reasonOf(error) };
      losses.set(unit, next);
      if (loss === undefined) onLoss(unit, { ...next, ended: false });
    }
    return lines;
  }

  function framerOf(unit: string, stream: OutputStream): Framer {
    const key = `${unit}:${stream}`;
    let framer = framers.get(key);
    if (!framer) framers.set(key, (framer = createFramer()));
    return framer;
  }

  return {
    /** Where this unit's next process writes (set before each spawn). */
    route(unit: string, target: LogTarget): void {
      targets.set(unit, target);
      sinkOf(target);
    },
    output: (unit: string, stream: OutputStream, chunk: Buffer) => write(unit, stream, framerOf(unit, stream).push(chunk)),
    end: (unit: string, stream: OutputStream) => write(unit, stream, framerOf(unit, stream).end()),
    /** Lines and bytes of output each unit's log took since this writer started. */
    written: (): Record<string, { lines: number; bytes: number }> => Object.fromEntries(written),
    close(): void {
      for (const { sink } of sinks.values()) sink.close();
      sinks.clear();
    },
  };
}

function reasonOf(error: unknown): string {
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code ?? (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC') return 'no space left on device';
  if (code === 'EDQUOT') return 'disk quota exceeded';
  return error instanceof Error ? error.message : String(error);
}
