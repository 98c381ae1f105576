// The /v1 control protocol: routes, request and response bodies, the error body, and the
// `Control` interface the server serves. Shared by server, client and (later) the dashboard.
// A contract: names here are kept stable; nothing in it mirrors internal method names.
// Names: `unit` is always the id of one instance ("web.0", the same whatever the count), and
// `label` how people see it ("web" while the service has one instance, else "web.1").

export const protocolVersion = 1;

/** Where a unit is (the core's phase) — repeated as strings so api/ does not import core/. */
type PhaseName = 'stopped' | 'starting' | 'running' | 'backoff' | 'stopping' | 'exited' | 'fatal';

export interface EngineInfo {
  readonly pid: number;
  /** The keeper holding the services (`tend up -d`); null for a foreground `tend up`. */
  readonly keeperPid: number | null;
  readonly version: string;
  readonly protocol: number;
  readonly configFile: string;
  readonly logDir: string;
  /** ISO time the engine started. */
  readonly startedAt: string;
  /**
   * How the services are contained: a cgroup each (below `cgroupRoot`) — a stop reaches every
   * process of the service; or process groups only — a process that calls setsid() escapes.
   */
  readonly containment: 'cgroup' | 'process-group';
  readonly cgroupRoot: string | null;
  /** The TCP listener (`api.listen`) as bound — the port chosen for `:0` included; null without one. Absent from engines before 0.3. */
  readonly tcp?: { readonly host: string; readonly port: number } | null;
  /** The Node.js version the engine runs on. Absent from engines before 0.3. */
  readonly node?: string;
}

export interface UnitInfo {
  /** The instance's id: "web.0", "web.1"... */
  readonly unit: string;
  /** "web" for a single instance, else the id. */
  readonly label: string;
  readonly service: string;
  readonly instance: number;
  readonly phase: PhaseName;
  readonly pid: number | null;
  /** ISO time the current (or last) run started. */
  readonly startedAt: string | null;
  /** How long the current run has been up; null when not running. */
  readonly uptimeMs: number | null;
  readonly restarts: number;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null } | null;
  /** Why the last run ended: success, exit-code, signal, spawn-failed, stop-timeout, start-limit, memory... */
  readonly lastResult: string | null;
  /**
   * Its start waits for depends_on: `waiting` while a dependency is on its way, `blocked` when
   * one cannot come (fatal, failed) — it starts if that recovers. Null: no start waits.
   */
  readonly waitingOn: { readonly state: 'waiting' | 'blocked'; readonly reason: string } | null;
  /** Its readiness probe's verdict while it runs (`pending` until the first), with the last output; null without a probe. */
  readonly readiness: { readonly state: 'pending' | 'ready' | 'not-ready'; readonly output: string } | null;
  /** ISO time of its next scheduled run (`schedule`) or restart (`cron_restart`); null without one. */
  readonly nextRun: string | null;
  /** While it stops: the signal sent, how long ago, and how long until SIGKILL (0: sent); null otherwise. Absent before 0.3. */
  readonly stopping?: { readonly signal: string; readonly sinceMs: number; readonly killInMs: number } | null;
  /** Output lines (and bytes) its log could not take — a full disk — since this engine started. */
  readonly lostLines: number;
  readonly lostBytes: number;
  /** CPU of the whole process group since the previous sample (or since start), % of one core. */
  readonly cpuPercent: number | null;
  /** Resident memory of the whole process group. */
  readonly rssBytes: number | null;
}

/** A service as the config in force defines it: what the dashboard draws its graph from. */
export interface ServiceInfo {
  readonly name: string;
  readonly instances: number;
  /** Its depends_on, in the file's order. */
  readonly dependsOn: readonly { readonly service: string; readonly condition: 'started' | 'ready' | 'completed' }[];
  /** Its cron schedule (a job), or null. */
  readonly schedule: string | null;
}

export interface StatusResponse {
  readonly engine: EngineInfo;
  readonly units: readonly UnitInfo[];
  /** The services of the config in force, in its order. Absent from engines before 0.4. */
  readonly services?: readonly ServiceInfo[];
}

export interface StatusQuery {
  /** Keep the answer open: a new status line whenever a unit changes (at most every 250 ms) and at each usage sample. */
  readonly follow: boolean;
}

/**
 * CPU and memory of every running unit at one instant: the engine samples them every 10 s while
 * someone follows them (and 15 minutes after) and keeps the last 15 minutes (`GET /v1/usage`).
 */
export interface UsageTick {
  /** Epoch ms of the sample. */
  readonly at: number;
  /** By unit id ("web.0"): [CPU % of one core since the previous sample, resident bytes]. Units not running are absent. */
  readonly units: Readonly<Record<string, readonly [number, number]>>;
}

/** start / stop / restart: by service name (every instance) or unit ("web.1"), or all. */
export interface ActionRequest {
  readonly services: readonly string[];
  readonly all?: boolean;
  /** start only: do not also start what the services depend on (they wait for it instead). */
  readonly noDeps?: boolean;
  /** stop only: also stop (first) the running services that depend on these; without it such a stop is refused. */
  readonly withDependents?: boolean;
  /** start / restart: answer at the spawn, not once it has run min_uptime, is ready, or (a scheduled job) has finished. */
  readonly noWait?: boolean;
}

export interface ActionResult {
  /** The instance's id ("web.0"); "engine" for the engine itself (upgrade). */
  readonly unit: string;
  /** How people see it ("web" while the service has one instance). */
  readonly label: string;
  readonly phase: PhaseName;
  readonly pid: number | null;
  /** False when the unit did not reach the asked-for state (e.g. it failed to start). */
  readonly ok: boolean;
  /** One sentence on the outcome: "started (pid 123)", "stopped", "failed: exited with code 1". */
  readonly message: string;
}

export interface ActionResponse {
  readonly results: readonly ActionResult[];
}

/** `down` also says which engine (and keeper) answered, so a client can wait for both to be gone. */
export interface DownResponse extends ActionResponse {
  readonly engine: EngineInfo;
}

export interface SignalRequest {
  readonly services: readonly string[];
  readonly signal: string;
}

export interface ScaleRequest {
  readonly service: string;
  readonly instances: number;
}

/** Labels of the units each change touched. */
export interface ReloadRequest {
  /** Plan only: say what a reload would do, change nothing. */
  readonly dryRun?: boolean;
}

/** What a reload did (or, for a dry run, would do) to one service, as the plan knows it. */
export interface ServiceChange {
  readonly service: string;
  /** start: new; stop: removed; restart: what it runs changed; update: settings (and/or count) applied in place; keep: nothing changed. */
  readonly action: 'start' | 'stop' | 'restart' | 'update' | 'keep';
  /** The instance count, when it changed (an update, or a restart with a new count). */
  readonly scale?: { readonly from: number; readonly to: number };
  /** The config keys that changed ("command", "stop.timeout"), for restart and update. */
  readonly keys: readonly string[];
}

export interface ReloadResponse {
  /** True for `reload --dry-run`: the plan, applied to nothing (the unit lists are then empty). */
  readonly dryRun?: boolean;
  /** By service, in the new file's order, then the removed ones. */
  readonly services?: readonly ServiceChange[];
  readonly started: readonly string[];
  readonly stopped: readonly string[];
  readonly restarted: readonly string[];
  /** Services whose instance count changed: "worker 1→3". */
  readonly scaled: readonly string[];
  /** Units whose supervisor settings (restart, backoff, stop, logs…) changed, applied without a restart. */
  readonly updated: readonly string[];
  /** Units of services where nothing changed. */
  readonly unchanged: readonly string[];
  /** Plain sentences on changes that did not fully apply (e.g. the api listener needs a restart of the engine). */
  readonly notes?: readonly string[];
}

export interface LogQuery {
  /** Service names; empty = every service. */
  readonly services: readonly string[];
  /** How many of the latest lines to send first (across the chosen services, merged by time). */
  readonly lines: number;
  /** Only lines at or after this epoch ms. */
  readonly since?: number;
  readonly follow: boolean;
}

export interface LogRecord {
  readonly time: string;
  readonly service: string;
  readonly instance: number;
  /** The instance's id ("web.0") and how ps shows it ("web" or "web.1"); set by the engine. */
  readonly unit: string;
  readonly label: string;
  readonly stream: 'out' | 'err';
  readonly line: string;
}

export interface EventQuery {
  readonly lines: number;
  readonly follow: boolean;
}

/**
 * What happened to a unit, by kind: the engine's notices (core/effects.ts), checked against this
 * where the records are built (engine/recorder.ts). Readers meet records of kinds they do not
 * know (a newer engine) and from before `label` existed: describe those by `kind` alone.
 */
export type EventKind =
  | { readonly kind: 'spawned'; readonly pid: number; readonly restarts: number }
  | { readonly kind: 'spawn-failed'; readonly error: string }
  | {
      readonly kind: 'exited';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly result: string;
      readonly uptimeMs: number;
    }
  | { readonly kind: 'restarting'; readonly delayMs: number; readonly attempt: number }
  | { readonly kind: 'completed'; readonly result: string }
  | { readonly kind: 'fatal'; readonly starts: number; readonly intervalMs: number }
  | { readonly kind: 'stopping'; readonly signal: string; readonly reason: string }
  | { readonly kind: 'memory-exceeded'; readonly rssBytes: number; readonly limitBytes: number }
  /** Its liveness or startup probe failed failure_threshold times in a row: stopped, then restarted by policy (result liveness). */
  | { readonly kind: 'probe-failed'; readonly probe: 'liveness' | 'startup'; readonly output: string }
  | { readonly kind: 'stopped'; readonly forced: boolean }
  /** Its readiness probe passed success_threshold times in a row / failed failure_threshold times in a row (its last output). */
  | { readonly kind: 'ready' }
  /** A start waits on a dependency that cannot come (fatal, failed, stopped). */
  | { readonly kind: 'blocked'; readonly reason: string }
  /**
   * tend itself (service, unit and instance "" and 0, label "tend"): an engine started — the
   * first, a new one after the last died (`previous` says how), or one an upgrade brought.
   */
  | { readonly kind: 'engine-started'; readonly reason: 'start' | 'respawn' | 'upgrade'; readonly previous: string | null }
  /**
   * tend itself: the audit trail — a control action (start, stop, restart, signal, scale, reload,
   * upgrade, down), what it named, where it came from (unix socket, TCP, SIGHUP) and how it went.
   */
  | {
      readonly kind: 'action';
      readonly action: AuditEntry['action'];
      readonly source: AuditEntry['source'];
      /** What it named: "web db", "all", "web HUP", "web=3", "dry run", or "" (down, upgrade). */
      readonly targets: string;
      readonly ok: boolean;
      readonly outcome: string;
    }
  /** tend itself: a reload was applied (what it did, by service) or rejected (why; the running config stayed). */
  | { readonly kind: 'reloaded'; readonly summary: string }
  | { readonly kind: 'reload-rejected'; readonly reason: string }
  /** An alert could not be delivered: the target (without secrets), the alert, and why. */
  | { readonly kind: 'notify-failed'; readonly target: string; readonly alert: string; readonly reason: string }
  /** A scheduled run did not start: the last one still went on (overlap: skip). */
  | { readonly kind: 'run-skipped'; readonly reason: string }
  | { readonly kind: 'not-ready'; readonly output: string }
  /** Output its log could not take (a full disk): when the loss began, and the totals once writing resumed (`ended`). */
  | { readonly kind: 'log-lost'; readonly lines: number; readonly bytes: number; readonly reason: string; readonly ended: boolean };

/** One supervisor event as recorded in events.jsonl and sent by `GET /v1/events`. */
export type EventRecord = EventKind & {
  readonly time: string;
  readonly service: string;
  readonly instance: number;
  /** The instance's id ("web.0") and its label ("web"). */
  readonly unit: string;
  readonly label: string;
};

/** A snapshot, then (when following) live items until the subscriber unsubscribes. */
export interface Feed<T> {
  readonly snapshot: readonly T[];
  /** Present when following: call with a sink; returns how to stop — and, for a source that can wait (a file), to pause and resume. */
  readonly follow?: (push: (item: T) => void, end: () => void) => Subscription;
}

export interface Subscription {
  stop(): void;
  /** No more items until resume(): the reader is behind. Absent: the source cannot wait. */
  pause?(): void;
  resume?(): void;
}

/** What the server needs from the engine. Methods throw TendError for expected failures. */
export interface Control {
  status(): Promise<StatusResponse>;
  /** status() as a feed: the current status, then (following) a new one on every change and usage sample. */
  statusFeed(query: StatusQuery): Promise<Feed<StatusResponse>>;
  /** The usage samples kept (the last 15 minutes), then (following) each new one. */
  usage(query: { readonly follow: boolean }): Promise<Feed<UsageTick>>;
  start(request: ActionRequest): Promise<ActionResponse>;
  stop(request: ActionRequest): Promise<ActionResponse>;
  restart(request: ActionRequest): Promise<ActionResponse>;
  signal(request: SignalRequest): Promise<ActionResponse>;
  scale(request: ScaleRequest): Promise<ActionResponse>;
  reload(request?: ReloadRequest): Promise<ReloadResponse>;
  /** Stop every service; resolves when they are all gone. The engine exits after the answer is sent. */
  down(): Promise<DownResponse>;
  /** Replace the running engine with the code on disk (under a keeper); no service restarts. */
  upgrade(): Promise<ActionResponse>;
  logs(query: LogQuery): Promise<Feed<LogRecord>>;
  events(query: EventQuery): Promise<Feed<EventRecord>>;
  /** The units' and the engine's metrics in the Prometheus text format (the server adds its own). */
  metrics(): Promise<string>;
}

export interface LiveQuery {
  /** Services whose logs to send; empty = every service. */
  readonly services: readonly string[];
  /** How many of the latest events to send first. */
  readonly events: number;
  /** How many of the latest log lines to send first; 0 = no logs at all, not even live. */
  readonly logs: number;
  readonly follow: boolean;
}

/** One line of `GET /v1/live`: exactly one of these members. */
export type LiveItem =
  | { readonly status: StatusResponse }
  | { readonly usage: UsageTick }
  | { readonly event: EventRecord }
  | { readonly log: LogRecord };

/** What `POST /v1/dashboard` answers (its one line). */
export interface DashboardLine {
  /** Opens the dashboard and logs one browser in, once, within 5 minutes. */
  readonly url: string;
  /** `configured`: the config's api.listen, which stays; `session`: one opened for this answer, closed when it ends. */
  readonly listener: 'configured' | 'session';
}

/** A control action as the audit trail keeps it: what was asked, through which door, and how it went. */
export interface AuditEntry {
  readonly action: 'start' | 'stop' | 'restart' | 'signal' | 'scale' | 'reload' | 'upgrade' | 'down';
  /** The unix socket, the TCP listener (bearer token), the dashboard (its login cookie, on the TCP listener), or a SIGHUP to the engine. */
  readonly source: 'unix' | 'tcp' | 'dashboard' | 'sighup';
  readonly request: ActionRequest | SignalRequest | ScaleRequest | ReloadRequest | Record<string, never>;
  /** The answer, or the error it got instead. */
  readonly result: ActionResponse | ReloadResponse | { readonly error: string };
}

/** The error body of every non-2xx answer. `details` carries e.g. a rejected reload's diagnostics. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly hint?: string; readonly details?: readonly string[] };
}

/**
 * The routes. Streaming routes (logs, events) answer NDJSON: one JSON object per line, the
 * snapshot first, then live items while `follow=1`, until the client disconnects.
 */
export const routes = {
  status: { method: 'GET', path: '/v1/status' },
  start: { method: 'POST', path: '/v1/start' },
  stop: { method: 'POST', path: '/v1/stop' },
  restart: { method: 'POST', path: '/v1/restart' },
  signal: { method: 'POST', path: '/v1/signal' },
  scale: { method: 'POST', path: '/v1/scale' },
  reload: { method: 'POST', path: '/v1/reload' },
  down: { method: 'POST', path: '/v1/down' },
  upgrade: { method: 'POST', path: '/v1/upgrade' },
  logs: { method: 'GET', path: '/v1/logs' },
  usage: { method: 'GET', path: '/v1/usage' },
  /** status, usage, events and logs in one stream (the dashboard's): LiveItem lines. */
  live: { method: 'GET', path: '/v1/live' },
  events: { method: 'GET', path: '/v1/events' },
  /** The unix socket only: a one-time dashboard login URL (NDJSON: one line, kept open while a listener opened for it lives). */
  dashboard: { method: 'POST', path: '/v1/dashboard' },
  /** Prometheus text, not JSON; where Prometheus looks by default. */
  metrics: { method: 'GET', path: '/metrics' },
} as const;
