// `tend logs` and `tend events`: the last lines (merged in time order across services), then,
// with -f, live until Ctrl-C. --json prints one object per line for scripts.
import type { EventRecord, Feed, LogRecord } from '../../api/protocol.js';
import { isTendError, TendError } from '../../errors.js';
import { connect } from '../connect.js';
import { loadOrExplain } from '../load.js';
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

/**
 * Where a feed stands: the time of the last record printed and what was printed at that time,
 * so a feed read anew from the files (the engine went away while following) goes on after it
 * without repeating a line — nor losing one: it is read from that time on.
 */
function createResume<T extends { readonly time: string }>(keyOf: (record: T) => string) {
  let lastTime: string | null = null;
  let atLast = new Map<string, number>();
  return {
    printed(record: T): void {
      if (record.time !== lastTime) [lastTime, atLast] = [record.time, new Map()];
      const key = keyOf(record);
      atLast.set(key, (atLast.get(key) ?? 0) + 1);
    },
    since: (): number | undefined => (lastTime === null ? undefined : Date.parse(lastTime)),
    /** A record printed before (ISO times of one format compare as strings). */
    seen(record: T): boolean {
      if (lastTime === null || record.time > lastTime) return false;
      if (record.time < lastTime) return true;
      const left = atLast.get(keyOf(record)) ?? 0;
      if (left === 0) return false;
      atLast.set(keyOf(record), left - 1);
      return true;
    },
  };
}

/** Lines read back after the engine went away: everything since the last one printed, up to this many. */
const RESUME_LINES = 100_000;

/**
 * A feed from the engine; when none answers, or it goes away while following (a restart, an
 * upgrade, `down`), the same feed read from the files, from where the engine's stopped.
 */
async function readFeed<T extends { readonly time: string }>(args: {
  readonly input: VerbInput;
  readonly fromEngine: (onRecord: (record: T) => void, signal: AbortSignal) => Promise<void>;
  readonly fromFiles: (since: number | undefined, resuming: boolean) => Promise<Feed<T>>;
  readonly keyOf: (record: T) => string;
  readonly print: (record: T) => void;
  readonly engineAnswers: boolean;
}): Promise<number> {
  const { input, print } = args;
  const following = input.values.follow === true;
  const controller = interruptible(input.io.stdout);
  const resume = createResume(args.keyOf);
  const tracked = (record: T) => {
    resume.printed(record);
    print(record);
  };
  let resuming = false;
  if (args.engineAnswers) {
    try {
      await args.fromEngine(tracked, controller.signal);
    } catch (error) {
      const gone = isTendError(error) && (error.code === 'TEND_NO_ENGINE' || error.code === 'TEND_ENGINE_UNREACHABLE');
      if (!following || !gone || controller.signal.aborted) throw error;
    }
    if (!following || controller.signal.aborted) return (controller.abort(), 0);
    resuming = true;
    input.io.stderr.write('tend: the engine went away; following the log files\n');
  }
  const feed = await args.fromFiles(resume.since(), resuming);
  for (const record of feed.snapshot) if (!resume.seen(record)) tracked(record);
  if (following && feed.follow && !controller.signal.aborted) {
    const follow = feed.follow;
    await new Promise<void>((resolve) => {
      const subscription = follow(tracked, resolve);
      controller.signal.addEventListener('abort', () => {
        subscription.stop();
        resolve();
      });
    });
  }
  controller.abort();
  return 0;
}

/** Whether an engine answers (and its labels): without one, logs and events read the files. */
async function engineStatus(client: Awaited<ReturnType<typeof connect>>['client']) {
  try {
    return await client.status();
  } catch (error) {
    if (isTendError(error) && error.code === 'TEND_NO_ENGINE') return null;
    throw error;
  }
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
  details: [
    'Reads the log files, rotated ones included. Each line: NAME | text (stderr lines look the same; --json tells the stream).',
    'With no engine running (after `tend down`) the files are read directly, from the config file;',
    'a follow whose engine goes away (a restart, an upgrade) goes on from the files, missing and repeating no line.',
  ].join('\n'),
  async run(input) {
    const { io, values } = input;
    const { client } = await connect(input);
    const { createTerminalFormatter, shouldUseColor } = await import('../../logs/terminal.js');
    const status = await engineStatus(client);
    const sinceMs = await since(input);
    const query = { services: [...input.positionals], lines: count(input, 100), follow: values.follow === true };
    let print: (record: LogRecord) => void = () => {};
    const printer = (names: string[]) => {
      // Every label ps would show, so the columns line up from the first line on.
      const terminal = createTerminalFormatter({ color: shouldUseColor({ isTTY: io.stdout.isTTY === true, env: io.env }), names });
      print = (r) => {
        if (values.json) return void io.stdout.write(`${JSON.stringify(r)}\n`);
        const line = terminal.format(r.label ?? r.unit, [Buffer.from(r.line)], r.stream);
        io.stdout.write(values.timestamps ? Buffer.concat([Buffer.from(`${r.time} `), line]) : line);
      };
    };
    if (status !== null) printer(status.units.map((unit) => unit.label));
    return readFeed<LogRecord>({
      input,
      engineAnswers: status !== null,
      fromEngine: (onRecord, signal) => client.logs({ ...query, ...(sinceMs === undefined ? {} : { since: sinceMs }) }, onRecord, signal),
      async fromFiles(after, resuming) {
        const config = await loadOrExplain(input, { shortLived: !query.follow });
        const [{ logFeed }, { labelOf, unitRefs }] = await Promise.all([
          import('../../engine/feeds.js'),
          import('../../engine/unit-ids.js'),
        ]);
        if (status === null) printer(config.services.flatMap((s) => unitRefs(s.name, s.instances).map((ref) => labelOf(ref, s.instances))));
        const from = resuming ? after : sinceMs;
        return logFeed(config, { ...query, ...(resuming ? { lines: RESUME_LINES } : {}), ...(from === undefined ? {} : { since: from }) });
      },
      keyOf: (r) => `${r.unit}\0${r.stream}\0${r.line}`,
      print: (record) => print(record),
    });
  },
};

export const eventsVerb: Verb = {
  name: 'events',
  summary: "Show the supervisor's own events (started, exited, restarting, fatal, stopped); -f follows.",
  args: '',
  options: { lines: { type: 'string', short: 'n', description: 'How many past events to show first (default 50).' }, follow, json },
  details: [
    'The same records as <log_dir>/events.jsonl, read directly when no engine runs (after `tend down`);',
    'a follow whose engine goes away goes on from the file.',
  ].join('\n'),
  async run(input) {
    const { io, values } = input;
    const { client } = await connect(input);
    const { describeNotice } = await import('../render/notice.js');
    const status = await engineStatus(client);
    const query = { lines: count(input, 50), follow: values.follow === true };
    return readFeed<EventRecord>({
      input,
      engineAnswers: status !== null,
      fromEngine: (onRecord, signal) => client.events(query, onRecord, signal),
      async fromFiles(after, resuming) {
        const config = await loadOrExplain(input, { shortLived: !query.follow });
        const { eventFeed } = await import('../../engine/feeds.js');
        const feed = eventFeed(config.logDir, { ...query, ...(resuming ? { lines: RESUME_LINES } : {}) });
        return after === undefined ? feed : { ...feed, snapshot: feed.snapshot.filter((r) => Date.parse(r.time) >= after) };
      },
      keyOf: (r) => JSON.stringify(r),
      print: (record) => {
        if (values.json) return void io.stdout.write(`${JSON.stringify(record)}\n`);
        io.stdout.write(`${record.time}  ${describeNotice(record)}\n`);
      },
    });
  },
};
