// Reload: read the config file again (in a worker, engine/../config/load-isolated.ts), plan the
// change against the config in force (config/plan.ts, pure), and apply the plan here, in one
// function. Reloads are coalesced: at most one runs and at most one waits behind it; whoever
// asks while one waits gets that one's answer (it reads the file after every request so far).
import type { ReloadResponse, ServiceChange } from '../api/protocol.js';
import { formatDiagnostics } from '../config/format.js';
import { loadConfigIsolated } from '../config/load-isolated.js';
import { planReload, type ReloadPlan } from '../config/plan.js';
import type { Config } from '../config/schema.js';
import { TendError } from '../errors.js';
import { logDirsOf, prepareLogDir } from '../logs/log-files.js';
import type { Commands } from './commands.js';
import type { Engine } from './engine.js';
import type { Loop } from './loop.js';
import { inSlices } from './slices.js';

export interface ReloadSource {
  readonly file: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Creates every log directory of the config (private unless widened) and refuses unsafe ones. */
export function prepareLogDirs(config: Config): void {
  for (const { dir, access } of logDirsOf(config)) prepareLogDir(dir, access);
}

/** Load, check and plan; throws TEND_RELOAD_REJECTED (the running config stays) when the file is invalid. */
async function planFrom(engine: Engine, { file, cwd, env }: ReloadSource): Promise<ReloadPlan> {
  const loaded = await loadConfigIsolated({ file, cwd, env: { ...env } });
  if (!loaded.ok) {
    const details = formatDiagnostics(loaded.diagnostics, { cwd }).split('\n');
    throw new TendError(
      'TEND_RELOAD_REJECTED',
      `${loaded.diagnostics.length} problem${loaded.diagnostics.length === 1 ? '' : 's'} in ${loaded.file}`,
      { details },
    );
  }
  prepareLogDirs(loaded.config);
  return planReload(engine.config(), loaded.config);
}

/**
 * Carry the plan out: services only in the old config are stopped and forgotten, new ones
 * started; every other service takes its new settings in place (the core reads them at each
 * transition, a spawn uses them); then restarts (one instance at a time, with the new count)
 * and scaling. The API listener belongs to the engine process: `inForce` keeps the old one.
 */
export async function applyPlan(loop: Loop, commands: Commands, plan: ReloadPlan): Promise<ReloadResponse> {
  const next = plan.inForce;
  const running = new Map(loop.config().services.map((s) => [s.name, s.instances]));
  // A removed service keeps its settings until its units are gone: they still transition.
  const removed = [...loop.units.values()].filter((e) => plan.stop.includes(e.ref.service));
  const stopping = Promise.all(removed.map((entry) => commands.stopAndRemove(entry, 'reload')));
  // Counts stay as they run until scaled below; new services come with theirs.
  loop.setConfig(
    next,
    next.services.map((s) => (running.has(s.name) ? { ...s, instances: running.get(s.name) ?? 0 } : s)),
  );
  const added = next.services.filter((s) => plan.start.includes(s.name)).flatMap((service) => loop.add(service));
  const [stopped, started] = await Promise.all([
    stopping,
    inSlices(added, (entry) => commands.command(entry, 'start')).then((all) => Promise.all(all)),
  ]);
  const restarted: string[] = [];
  for (const name of plan.restart) {
    const wanted = next.services.find((s) => s.name === name)?.instances ?? 0;
    const was = running.get(name) ?? 0;
    if (wanted < was) await commands.scale(name, wanted); // fewer to restart
    const units = [...loop.units.values()].filter((e) => e.ref.service === name).map((e) => e.ref);
    restarted.push(...(await commands.runInTurn('restart', units)).map((o) => o.label));
    if (wanted > was) await commands.scale(name, wanted); // the new ones start with the new settings
  }
  for (const change of plan.scale) await commands.scale(change.service, change.to);
  const labelsOf = (names: readonly string[]) =>
    loop
      .ordered()
      .filter((e) => names.includes(e.ref.service))
      .map((e) => loop.label(e.ref));
  return {
    services: changesOf(plan),
    started: started.map((o) => o.label),
    stopped: stopped.map((o) => o.label),
    restarted,
    scaled: plan.scale.map((change) => `${change.service} ${change.from}→${change.to}`),
    updated: labelsOf(plan.update),
    unchanged: labelsOf(plan.keep),
    notes: plan.notes,
  };
}

/** Reload from the file: load, check, plan, apply. Throws TEND_RELOAD_REJECTED (nothing changes) for an invalid file. */
export async function reloadFrom(engine: Engine, source: ReloadSource): Promise<ReloadResponse> {
  return engine.apply(await planFrom(engine, source));
}

/** `reload --dry-run`: the same plan, applied to nothing (log directories are checked, as a reload would). */
export async function planOnly(engine: Engine, source: ReloadSource): Promise<ReloadResponse> {
  const plan = await planFrom(engine, source);
  return {
    dryRun: true,
    services: changesOf(plan),
    started: [],
    stopped: [],
    restarted: [],
    scaled: [],
    updated: [],
    unchanged: [],
    notes: plan.notes,
  };
}

/** The plan by service: new file order, then the removed ones. */
function changesOf(plan: ReloadPlan): ServiceChange[] {
  const scaled = new Map(plan.scale.map((change) => [change.service, { from: change.from, to: change.to }]));
  const changes = plan.inForce.services.map(({ name }): ServiceChange => {
    const scale = scaled.get(name);
    const keys = (plan.changed[name] ?? []).filter((key) => scale === undefined || key !== 'instances');
    const action = plan.start.includes(name)
      ? 'start'
      : plan.restart.includes(name)
        ? 'restart'
        : plan.keep.includes(name)
          ? 'keep'
          : 'update';
    return { service: name, action, keys, ...(scale === undefined ? {} : { scale }) };
  });
  return [...changes, ...plan.stop.map((name): ServiceChange => ({ service: name, action: 'stop', keys: [] }))];
}

/**
 * `run`, coalesced: at most one runs and at most one waits behind it. Whoever asks while one
 * waits gets that one's answer: it starts after their request, so it sees what they changed.
 */
export function coalesced<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let waiting: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const current = run();
    running = current;
    const clear = () => {
      if (running === current) running = null;
    };
    current.then(clear, clear);
    return current;
  };
  return () => {
    if (running === null) return start();
    const before = running;
    waiting ??= before
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        waiting = null;
        return start();
      });
    return waiting;
  };
}
