// Keys people bring from the tools tend replaces — docker compose, process-compose, PM2 and
// supervisord — named with tend's own key, so "unknown key" becomes a did-you-mean. Only keys
// with a clear counterpart are listed; what has none (image, ports) says why instead.

interface Foreign {
  /** Where tend has it ("env", or "stop.signal" for a nested key). */
  readonly tend: string | null;
  /** Which tool uses the key, for the hint. */
  readonly from: string;
  /** Said instead of a hint when tend has no counterpart, or more is needed than a rename. */
  readonly note?: string;
}

const COMPOSE = 'docker compose';
const PC = 'process-compose';
const SUPERVISOR = 'supervisord';
const CONTAINERS = 'tend runs processes, not containers: give the command to run as `command`';

const serviceKeys: Readonly<Record<string, Foreign>> = {
  environment: { tend: 'env', from: COMPOSE },
  working_dir: { tend: 'cwd', from: COMPOSE },
  directory: { tend: 'cwd', from: SUPERVISOR },
  entrypoint: { tend: 'command', from: COMPOSE },
  script: { tend: 'command', from: 'PM2' },
  healthcheck: { tend: 'readiness', from: COMPOSE, note: 'or `liveness` to restart it when it fails' },
  readiness_probe: { tend: 'readiness', from: PC },
  liveness_probe: { tend: 'liveness', from: PC },
  autorestart: { tend: 'restart', from: 'PM2 and supervisord', note: 'always, on-failure or never' },
  availability: { tend: 'restart', from: PC, note: 'always, on-failure or never; backoff and start_limit for the rest' },
  max_memory_restart: { tend: 'max_memory', from: 'PM2' },
  kill_timeout: { tend: 'stop.timeout', from: 'PM2' },
  stop_grace_period: { tend: 'stop.timeout', from: COMPOSE },
  stopwaitsecs: { tend: 'stop.timeout', from: SUPERVISOR },
  stop_signal: { tend: 'stop.signal', from: COMPOSE },
  stopsignal: { tend: 'stop.signal', from: SUPERVISOR },
  startsecs: { tend: 'min_uptime', from: SUPERVISOR },
  startretries: { tend: 'start_limit.burst', from: SUPERVISOR },
  max_restarts: { tend: 'start_limit.burst', from: 'PM2' },
  restart_delay: { tend: 'backoff.initial', from: 'PM2' },
  numprocs: { tend: 'instances', from: SUPERVISOR },
  ignore_watch: { tend: 'watch_ignore', from: 'PM2' },
  uid: { tend: 'user', from: 'PM2' },
  gid: { tend: 'group', from: 'PM2' },
  out_file: { tend: 'logs.file', from: 'PM2', note: "stdout and stderr share the service's log file" },
  error_file: { tend: 'logs.file', from: 'PM2', note: "stdout and stderr share the service's log file" },
  stdout_logfile: { tend: 'logs.file', from: SUPERVISOR, note: "stdout and stderr share the service's log file" },
  log_location: { tend: 'logs.file', from: PC },
  priority: { tend: 'depends_on', from: SUPERVISOR, note: 'order comes from what each service needs' },
  name: { tend: null, from: 'PM2', note: "a service's name is its key under `services`" },
  image: { tend: null, from: COMPOSE, note: CONTAINERS },
  build: { tend: null, from: COMPOSE, note: CONTAINERS },
  ports: { tend: null, from: COMPOSE, note: 'a process listens on its own ports: pass them in `command` or `env`' },
  volumes: { tend: null, from: COMPOSE, note: CONTAINERS },
};

const topKeys: Readonly<Record<string, Foreign>> = {
  apps: { tend: 'services', from: 'PM2' },
  processes: { tend: 'services', from: PC },
  programs: { tend: 'services', from: SUPERVISOR },
};

/** What tend calls a key another tool uses here (the top level, or a service), if it is one. */
export function foreignKey(key: string, scope: 'top' | 'service'): Foreign | undefined {
  const table = scope === 'top' ? topKeys : serviceKeys;
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
