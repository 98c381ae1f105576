// `tend logs` and `tend events`: the last lines (merged in time order across services), then,
// with -f, live until Ctrl-C. --json prints one object per line for scripts.
import type { EventRecord, LogRecord } from '../../api/protocol.js';
import { TendError } from '../../errors.js';
import { connect } from '../connect.js';
import type { Verb, VerbInput } from '../verb.js';

const follow = { type: 'boolean', short: 'f', description: 'Keep printing new lines until Ctrl-C.' } as const;
const json = { type: 'boolean', description: 'One JSON object per line.' } as const;

function count(input: VerbInput, fallback: number): number {
  const raw = input.values.lines;
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new TendError('TEND_USAGE', `-n expects a whole number of lines, got "${String(raw)}"`);
  return n;
}

/** --since 10m (a duration back from now) or an ISO date/time. */
async function since(input: VerbInput): Promise<number | undefined> {
  const raw = input.values.since;
  if (typeof raw !== 'string') return undefined;
  const { parseDuration } = await import('../../config/units.js');
  const ago = parseDuration(raw);
  if (ago !== null) return Date.now() - ago;
  const at = Date.parse(raw);
  if (Number.isNaN(at))
    throw new TendError('TEND_USAGE', `--since expects a duration like 10m or a date like 2026-11-24T08:00:00Z, got "${raw}"`);
  return at;
}

/** Ends the request on Ctrl-C, or when our reader goes away (`tend logs -f | head`); exit 0. */
function interruptible(stdout: NodeJS.WriteStream): AbortController {
  const controller = new AbortController();
  const stop = () => controller.abort();
  stdout.once('error', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  controller.signal.addEventListener('abort', () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stdout.off('error', stop);
  });
  return controller;
}

export const logsVerb: Verb = {
  name: 'logs',
  summary: 'Show the latest log lines of services (all by default), merged in time order; -f follows.',
  args: '[NAME...]',
  options: {
    lines: { type: 'string', short: 'n', description: 'How many lines to show first (default 100).' },
    follow,
    since: { type: 'string', description: 'Only lines from this long ago (10m, 2h) or since this ISO time.' },
    timestamps: { type: 'boolean', short: 't', description: 'Prefix each line with its time.' },
    json,
  },
  details: 'Reads the log files, rotated ones included. Each line: NAME | text (stderr lines look the same; --json tells the stream).',
  async run(input) {
    const { io, values } = input;
    const { client } = await connect(input);
    const { createTerminalFormatter, shouldUseColor } = await import('../../logs/terminal.js');
    // Every label ps would show, so the columns line up from the first line on.
    const names = values.json ? [] : (await client.status()).units.map((unit) => unit.label);
    const terminal = createTerminalFormatter({ color: shouldUseColor({ isTTY: io.stdout.isTTY === true, env: io.env }), names });
    const print = (r: LogRecord) => {
      if (values.json) return void io.stdout.write(`${JSON.stringify(r)}\n`);
      const line = terminal.format(r.label ?? r.unit, [Buffer.from(r.line)], r.stream);
      io.stdout.write(values.timestamps ? Buffer.concat([Buffer.from(`${r.time} `), line]) : line);
    };
    const controller = interruptible(io.stdout);
    const sinceMs = await since(input);
    await client.logs(
      {
        services: [...input.positionals],
        lines: count(input, 100),
        follow: values.follow === true,
        ...(sinceMs === undefined ? {} : { since: sinceMs }),
      },
      print,
      controller.signal,
    );
    controller.abort();
    return 0;
  },
};

export const eventsVerb: Verb = {
  name: 'events',
  summary: "Show the supervisor's own events (started, exited, restarting, fatal, stopped); -f follows.",
  args: '',
  options: { lines: { type: 'string', short: 'n', description: 'How many past events to show first (default 50).' }, follow, json },
  details: 'The same records as <log_dir>/events.jsonl.',
  async run(input) {
    const { io, values } = input;
    const { client } = await connect(input);
    const { describeNotice } = await import('../render/notice.js');
    const print = (record: EventRecord) => {
      if (values.json) return void io.stdout.write(`${JSON.stringify(record)}\n`);
      const text = describeNotice(record);
      io.stdout.write(`${record.time}  ${text}\n`);
    };
    const controller = interruptible(io.stdout);
    await client.events({ lines: count(input, 50), follow: values.follow === true }, print, controller.signal);
    controller.abort();
    return 0;
  },
};
