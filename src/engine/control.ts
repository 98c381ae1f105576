// The engine as the API sees it: the `Control` of api/protocol.ts implemented on top of the
// engine's operations. It translates names, shapes answers and reads logs back from the files;
// it decides nothing the engine or the core does not.
import type {
  ActionRequest,
  ActionResponse,
  Control,
  DownResponse,
  EngineInfo,
  EventQuery,
  EventRecord,
  Feed,
  LogQuery,
  LogRecord,
  ReloadRequest,
  ReloadResponse,
  StatusQuery,
  StatusResponse,
  UnitInfo,
  UsageTick,
} from '../api/protocol.js';
import os from 'node:os';
import { MAX_INSTANCES, MAX_PROCESSES } from '../config/limits.js';
import { didYouMean } from '../config/phrasing.js';
import { TendError } from '../errors.js';
import type { Engine } from './engine.js';
import { eventFeed, logFeed } from './feeds.js';
import { formatFamilies } from '../lib/prometheus.js';
import type { CommandKind, UnitOutcome } from './outcomes.js';

export interface ControlOptions {
  readonly engine: Engine;
  readonly info: () => EngineInfo;
  readonly reload: (request?: ReloadRequest) => Promise<ReloadResponse>;
  /** Stop every service; the session exits after the answer is sent. */
  readonly down: () => Promise<DownResponse>;
  readonly upgrade: () => Promise<ActionResponse>;
}

const validSignal = /^SIG[A-Z0-9]+$/;
/** A followed status is sent at most this often: a burst of changes (a restart storm, a 200-service start) is one line. */
const STATUS_COALESCE_MS = 250;

export function createControl({ engine, info, reload, down, upgrade }: ControlOptions): Control {
  const act = async (kind: CommandKind, request: ActionRequest): Promise<ActionResponse> => {
    if (!request.all && request.services.length === 0)
      throw new TendError('TEND_USAGE', `name at least one service to ${kind}, or pass --all`);
    const refs = engine.select(request.all ? [] : request.services);
    const options = {
      dependencies: request.noDeps !== true,
      dependents: request.withDependents === true ? ('include' as const) : ('refuse' as const),
      wait: request.noWait !== true,
    };
    return { results: shape(await engine.run(kind, refs, options)) };
  };

  const status = async (): Promise<StatusResponse> => {
    const usage = engine.usage();
    const units: UnitInfo[] = engine.status().map((unit) => {
      const use = usage.get(unit.unit);
      return {
        unit: unit.unit,
        label: unit.label,
        service: unit.service,
        instance: unit.instance,
        phase: unit.phase,
        pid: unit.pid,
        startedAt: unit.startedAt === null ? null : new Date(unit.startedAt).toISOString(),
        uptimeMs: unit.uptimeMs,
        restarts: unit.restarts,
        lastExit: unit.lastExit,
        lastResult: unit.lastResult,
        waitingOn: unit.waitingOn,
        readiness: unit.phase === 'running' ? unit.readiness : null,
        nextRun: unit.nextRun === null ? null : new Date(unit.nextRun).toISOString(),
        lostLines: unit.lostLines,
        lostBytes: unit.lostBytes,
        stopping: unit.stopping,
        cpuPercent: use?.cpuPercent ?? null,
        rssBytes: use?.rssBytes ?? null,
      };
    });
    const services = engine.config().services.map((service) => ({
      name: service.name,
      instances: service.instances,
      dependsOn: service.dependsOn.map(({ service: name, condition }) => ({ service: name, condition })),
      schedule: service.schedule?.cron ?? null,
    }));
    return { engine: info(), units, services };
  };

  return {
    status,
    async statusFeed(query: StatusQuery): Promise<Feed<StatusResponse>> {
      const snapshot = [await status()];
      if (!query.follow) return { snapshot };
      return {
        snapshot,
        follow(push) {
          let timer: NodeJS.Timeout | undefined;
          const soon = (): void => {
            timer ??= setTimeout(() => {
              timer = undefined;
              void status().then(push);
            }, STATUS_COALESCE_MS);
          };
          const stops = [engine.onChange(soon), engine.onUsageSample(soon)];
          return {
            stop() {
              clearTimeout(timer);
              for (const stop of stops) stop();
            },
          };
        },
      };
    },
    async usage(query): Promise<Feed<UsageTick>> {
      const snapshot = engine.usageHistory();
      if (!query.follow) return { snapshot };
      return { snapshot, follow: (push) => ({ stop: engine.onUsageSample(push) }) };
    },
    start: (request) => act('start', request),
    stop: (request) => act('stop', request),
    restart: (request) => act('restart', request),
    async signal(request) {
      const signal = request.signal.toUpperCase().startsWith('SIG') ? request.signal.toUpperCase() : `SIG${request.signal.toUpperCase()}`;
      if (!validSignal.test(signal) || !Object.hasOwn(os.constants.signals, signal)) {
        const names = Object.keys(os.constants.signals).map((name) => name.slice(3));
        const near = didYouMean(signal.slice(3), names);
        throw new TendError('TEND_USAGE', `unknown signal "${request.signal}"`, {
          hint: `${near === undefined ? '' : `did you mean ${near}? `}signals: ${names.join(' ')}`,
        });
      }
      return { results: shape(engine.signal(engine.select(request.services), signal as NodeJS.Signals)) };
    },
    async scale(request) {
      if (!Number.isInteger(request.instances) || request.instances < 0 || request.instances > MAX_INSTANCES) {
        throw new TendError('TEND_USAGE', `instances must be a whole number from 0 to ${MAX_INSTANCES}, got ${request.instances}`);
      }
      const others = engine
        .config()
        .services.filter((s) => s.name !== request.service)
        .reduce((sum, s) => sum + s.instances, 0);
      if (others + request.instances > MAX_PROCESSES) {
        throw new TendError(
          'TEND_USAGE',
          `${request.instances} instances would make ${others + request.instances} processes in all; tend runs at most ${MAX_PROCESSES}`,
        );
      }
      return { results: shape(await engine.scale(request.service, request.instances)) };
    },
    reload,
    down,
    upgrade,

    logs: async (query: LogQuery): Promise<Feed<LogRecord>> => logFeed(engine.config(), query),
    metrics: async (): Promise<string> => formatFamilies(await engine.metricFamilies(info().keeperPid)),
    events: async (query: EventQuery): Promise<Feed<EventRecord>> => eventFeed(engine.config().logDir, query),
  };
}

function shape(outcomes: readonly UnitOutcome[]): ActionResponse['results'] {
  return outcomes.map(({ unit, label, phase, pid, ok, message }) => ({ unit, label, phase, pid, ok, message }));
}
