// Service output to log files, for whichever process holds the pipes (the keeper, or the engine
// of a foreground `tend up`): one framer per unit and stream, one sink per log file (instances
// of a service share it), reopened when a spawn brings new rotation settings. A refused write
// is reported once and never stops anything.
import type { LogTarget, OutputStream } from '../host/host.js';
import { openFileSink, type FileSink } from './file-sink.js';
import { createFramer, type Framer } from './framer.js';

export function createUnitLogs({ warn, now = Date.now }: { warn: (text: string) => void; now?: () => number }) {
  const targets = new Map<string, LogTarget>();
  const framers = new Map<string, Framer>();
  const sinks = new Map<string, { settings: string; sink: FileSink }>();
  const warned = new Set<string>();

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

  /** Writes the lines to the unit's file and hands them back (for a terminal echo). */
  function write(unit: string, stream: OutputStream, lines: Buffer[]): Buffer[] {
    const target = targets.get(unit);
    if (!target || lines.length === 0) return lines;
    try {
      sinkOf(target)?.write(lines, { time: now(), instance: target.instance, stream });
    } catch (error) {
      warnOnce(`write:${target.file}`, error);
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
    close(): void {
      for (const { sink } of sinks.values()) sink.close();
      sinks.clear();
    },
  };
}
