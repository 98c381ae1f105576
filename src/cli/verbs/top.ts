// `tend top`: the fleet live on a terminal, as `docker stats` or `pm2 monit` show theirs — every
// instance with its state, CPU, memory, restarts and uptime, sorted and refreshed each second,
// with keys to restart, stop or start the selected service and a pane with its latest log lines.
// Not on a terminal, it prints the table once, sorted the same way (like `top -b -n 1`).
import type { LogRecord, StatusResponse, UnitInfo } from '../../api/protocol.js';
import { connect } from '../connect.js';
import { formatBytes, formatDuration } from '../render/notice.js';
import { renderTable } from '../render/table.js';
import type { Verb } from '../verb.js';

type Sort = 'cpu' | 'mem' | 'name' | 'restarts';
const REFRESH_MS = 1000;
const LOG_LINES = 8;

const sorters: Record<Sort, (a: UnitInfo, b: UnitInfo) => number> = {
  cpu: (a, b) => (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1),
  mem: (a, b) => (b.rssBytes ?? -1) - (a.rssBytes ?? -1),
  restarts: (a, b) => b.restarts - a.restarts,
  name: (a, b) => a.label.localeCompare(b.label),
};

function stateOf(unit: UnitInfo): string {
  if (unit.waitingOn) return unit.waitingOn.state;
  if (unit.phase === 'running' && unit.readiness && unit.readiness.state !== 'ready') return 'not ready';
  if (unit.phase === 'exited' && unit.lastResult !== null && unit.lastResult !== 'success') return 'failed';
  return unit.phase;
}

function table(units: readonly UnitInfo[], selected: number | null): string[] {
  const rows = units.map((u, i) => [
    `${i === selected ? '>' : ' '} ${u.label}`,
    stateOf(u),
    u.pid === null ? '-' : String(u.pid),
    u.cpuPercent === null ? '-' : `${u.cpuPercent.toFixed(1)}%`,
    u.rssBytes === null ? '-' : formatBytes(u.rssBytes),
    String(u.restarts),
    u.uptimeMs === null ? '-' : formatDuration(u.uptimeMs),
  ]);
  return renderTable(['  NAME', 'STATE', 'PID', 'CPU', 'MEM', 'RESTARTS', 'UPTIME'], rows).trimEnd().split('\n');
}

export const topVerb: Verb = {
  name: 'top',
  summary: 'The fleet live on a terminal: state, CPU, memory, restarts, sorted and refreshed; keys act on the selected service.',
  args: '',
  options: { sort: { type: 'string', description: 'Sort by cpu (default), mem, restarts or name.' } },
  details: [
    'Keys: up/down (or k/j) select; r restart, s stop, S start the selected service; l shows or hides its latest log lines;',
    'c, m, R, n sort by CPU, memory, restarts, name; q or Ctrl-C quits. Not on a terminal, prints the table once.',
  ].join('\n'),
  async run(input) {
    const { io } = input;
    const { client } = await connect(input);
    const given = input.values.sort ?? 'cpu';
    if (typeof given !== 'string' || !(given in sorters)) {
      const { TendError } = await import('../../errors.js');
      throw new TendError('TEND_USAGE', `--sort expects cpu, mem, restarts or name, got "${String(given)}"`);
    }
    let sort = given as Sort;
    const sorted = (status: StatusResponse) => [...status.units].sort(sorters[sort]);
    if (io.stdout.isTTY !== true || !process.stdin.isTTY) {
      io.stdout.write(`${table(sorted(await client.status()), null).join('\n')}\n`);
      return 0;
    }
    return live(
      io,
      client,
      () => sort,
      (next) => (sort = next),
      sorted,
    );
  },
};

async function live(
  io: Parameters<Verb['run']>[0]['io'],
  client: Awaited<ReturnType<typeof connect>>['client'],
  sortOf: () => Sort,
  setSort: (sort: Sort) => void,
  sorted: (status: StatusResponse) => UnitInfo[],
): Promise<number> {
  const out = io.stdout;
  let units: UnitInfo[] = [];
  let selected = 0;
  let showLogs = false;
  let lines: LogRecord[] = [];
  let message = '';
  let header = '';
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    const rows = out.rows || 24; // a pseudo-terminal with no size says 0
    const frame = [
      header,
      `sort: ${sortOf()}   keys: ↑↓ select  r restart  s stop  S start  l logs  c m R n sort  q quit`,
      '',
      ...table(units, selected),
    ];
    if (showLogs && units[selected]) {
      frame.push(
        '',
        `-- ${units[selected]?.label} --`,
        ...lines.map((r) => `${r.time.slice(11, 19)} ${r.line}`.slice(0, (out.columns || 80) - 1)),
      );
    }
    if (message !== '') frame.push('', message);
    out.write(`\x1b[H\x1b[2J${frame.slice(0, rows - 1).join('\n')}`);
  };
  const refresh = async () => {
    try {
      const status = await client.status();
      const before = units[selected]?.unit;
      units = sorted(status);
      const again = units.findIndex((u) => u.unit === before);
      selected = again >= 0 ? again : Math.min(selected, Math.max(0, units.length - 1));
      const running = status.units.filter((u) => u.phase === 'running').length;
      header = `tend top — ${status.engine.configFile} — ${running} of ${status.units.length} running — ${new Date().toLocaleTimeString()}`;
      const chosen = units[selected];
      if (showLogs && chosen) {
        const got: LogRecord[] = [];
        await client.logs({ services: [chosen.service], lines: LOG_LINES, follow: false }, (r) => void got.push(r));
        lines = got;
      }
    } catch (error) {
      message = `tend: ${error instanceof Error ? error.message : String(error)}`;
    }
    draw();
  };
  const act = async (kind: 'restart' | 'stop' | 'start') => {
    const chosen = units[selected];
    if (!chosen) return;
    message = `${kind} ${chosen.label}…`;
    draw();
    try {
      const response = await client[kind]({ services: [chosen.unit] });
      message = response.results.map((r) => `${r.label ?? r.unit}: ${r.message}`).join('; ');
    } catch (error) {
      message = `tend: ${error instanceof Error ? error.message : String(error)}`;
    }
    void refresh();
  };
  out.write('\x1b[?1049h\x1b[?25l'); // the alternate screen, no cursor: the terminal comes back as it was
  process.stdin.setRawMode(true);
  process.stdin.resume();
  return await new Promise<number>((resolve) => {
    const quit = () => {
      clearInterval(timer);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stdin.off('data', onKey);
      process.off('SIGTERM', quit);
      out.write('\x1b[?25h\x1b[?1049l');
      resolve(0);
    };
    process.once('SIGTERM', quit); // killed: the terminal still comes back as it was
    const onKey = (key: Buffer) => {
      const k = key.toString('utf8');
      if (k === 'q' || k === '\u0003') return quit();
      if (k === '\u001b[A' || k === 'k') selected = Math.max(0, selected - 1);
      else if (k === '\u001b[B' || k === 'j') selected = Math.min(units.length - 1, selected + 1);
      else if (k === 'r') return void act('restart');
      else if (k === 's') return void act('stop');
      else if (k === 'S') return void act('start');
      else if (k === 'l') showLogs = !showLogs;
      else if (k === 'c' || k === 'm' || k === 'R' || k === 'n') setSort(({ c: 'cpu', m: 'mem', R: 'restarts', n: 'name' } as const)[k]);
      void refresh();
    };
    process.stdin.on('data', onKey);
    timer = setInterval(() => void refresh(), REFRESH_MS);
    void refresh();
  });
}
