import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Effect } from './effects.js';
import { unitInputTypes, type UnitInput, type UnitInputType } from './inputs.js';
import { initialUnitState, phases, transition, type Phase, type UnitContext, type UnitState } from './service.js';

const spec: UnitContext['spec'] = {
  restart: 'always',
  backoff: { initial: 100, max: 30_000, reset_after: 60_000 },
  start_limit: { burst: 5, interval: 10_000 },
  stop: { signal: 'SIGTERM', timeout: 10_000 },
};
const at = (now: number, over: Partial<UnitContext['spec']> = {}): UnitContext => ({
  now,
  wall: 1_800_000_000_000 + now,
  random: 0,
  spec: { ...spec, ...over },
});

/** A representative state for each phase: pid 42 of generation 3, started at t=1000. */
function inPhase(phase: Phase): UnitState {
  const base: UnitState = { ...initialUnitState, phase, generation: 3, startedAt: 1000, starts: [1000] };
  switch (phase) {
    case 'running':
      return { ...base, pid: 42 };
    case 'stopping':
      return { ...base, pid: 42, afterStop: { kind: 'stop' }, stopReason: 'operator' };
    default:
      return base;
  }
}

const sample: { [T in UnitInputType]: Extract<UnitInput, { type: T }> } = {
  'start-requested': { type: 'start-requested' },
  'stop-requested': { type: 'stop-requested', reason: 'operator' },
  'restart-requested': { type: 'restart-requested' },
  spawned: { type: 'spawned', pid: 42 },
  'spawn-failed': { type: 'spawn-failed', error: 'program not found' },
  exited: { type: 'exited', pid: 42, code: 1, signal: null },
  'group-gone': { type: 'group-gone', forced: false },
  'timer-fired': { type: 'timer-fired', timer: 'backoff', generation: 3 },
  'memory-exceeded': { type: 'memory-exceeded', rssBytes: 600, limitBytes: 500 },
  'probe-failed': { type: 'probe-failed', probe: 'liveness', output: 'HTTP 500' },
};

const describeEffects = (effects: readonly Effect[]) =>
  effects.map((e) => (e.type === 'emit' ? `emit:${e.notice.kind}` : e.type)).join(' ');

// The spec, cell by cell: phase × event → next phase and effects ('-' = ignored, state unchanged).
// With restart=always, backoff initial 100ms and a start limit of 5 per 10s, at t=2000.
const expected: Record<Phase, Record<UnitInputType, string>> = {
  stopped: {
    'start-requested': 'starting | spawn',
    'stop-requested': '-',
    'restart-requested': 'starting | spawn',
    spawned: '-',
    'spawn-failed': '-',
    exited: '-',
    'group-gone': '-',
    'timer-fired': '-',
    'memory-exceeded': '-',
    'probe-failed': '-',
  },
  starting: {
    'start-requested': '-',
    'stop-requested': 'stopping | emit:stopping stop-group',
    'restart-requested': 'stopping | emit:stopping stop-group',
    spawned: 'running | emit:spawned',
    'spawn-failed': 'backoff | emit:spawn-failed emit:restarting schedule',
    exited: '-',
    'group-gone': '-',
    'timer-fired': '-',
    'memory-exceeded': '-',
    'probe-failed': '-',
  },
  running: {
    'start-requested': '-',
    'stop-requested': 'stopping | emit:stopping stop-group',
    'restart-requested': 'stopping | emit:stopping stop-group',
    spawned: '-',
    'spawn-failed': '-',
    exited: 'stopping | emit:exited stop-group',
    'group-gone': '-',
    'timer-fired': '-',
    'memory-exceeded': 'stopping | emit:memory-exceeded emit:stopping stop-group',
    'probe-failed': 'stopping | emit:probe-failed emit:stopping stop-group',
  },
  backoff: {
    'start-requested': 'starting | spawn',
    'stop-requested': 'stopped | cancel emit:stopped',
    'restart-requested': 'starting | cancel spawn',
    spawned: '-',
    'spawn-failed': '-',
    exited: '-',
    'group-gone': '-',
    'timer-fired': 'starting | spawn',
    'memory-exceeded': '-',
    'probe-failed': '-',
  },
  stopping: {
    'start-requested': 'stopping | ',
    'stop-requested': 'stopping | ',
    'restart-requested': 'stopping | ',
    spawned: 'stopping | ',
    'spawn-failed': 'stopping | emit:spawn-failed',
    exited: 'stopping | emit:exited',
    'group-gone': 'stopped | emit:stopped',
    'timer-fired': '-',
    'memory-exceeded': '-',
    'probe-failed': '-',
  },
  exited: {
    'start-requested': 'starting | spawn',
    'stop-requested': '-',
    'restart-requested': 'starting | spawn',
    spawned: '-',
    'spawn-failed': '-',
    exited: '-',
    'group-gone': '-',
    'timer-fired': '-',
    'memory-exceeded': '-',
    'probe-failed': '-',
  },
  fatal: {
    'start-requested': 'starting | spawn',
    'stop-requested': 'stopped | ',
    'restart-requested': 'starting | spawn',
    spawned: '-',
    'spawn-failed': '-',
    exited: '-',
    'group-gone': '-',
    'timer-fired': '-',
    'memory-exceeded': '-',
    'probe-failed': '-',
  },
};

test('every (phase, event) cell does what the spec table says', () => {
  for (const phase of phases) {
    for (const type of unitInputTypes) {
      const before = inPhase(phase);
      const { state, effects } = transition(before, sample[type], at(2000));
      const got = state === before && effects.length === 0 ? '-' : `${state.phase} | ${describeEffects(effects)}`;
      assert.equal(got, expected[phase][type], `${phase} × ${type}`);
    }
  }
});

/** Feed events in order, returning the final state and every effect. */
function run(events: Array<[number, UnitInput]>, over: Partial<UnitContext['spec']> = {}, from = initialUnitState) {
  let state = from;
  const effects: Effect[] = [];
  for (const [now, event] of events) {
    const out = transition(state, event, at(now, over));
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

const crash = (now: number, pid: number, code: number | null = 1, signal: string | null = null): Array<[number, UnitInput]> => [
  [now, { type: 'exited', pid, code, signal }],
  [now, { type: 'group-gone', forced: false }],
];

test('a crash under always goes to backoff with the initial delay, then respawns on the timer', () => {
  const { state, effects } = run([[0, { type: 'start-requested' }], [1, { type: 'spawned', pid: 10 }], ...crash(500, 10)]);
  assert.equal(state.phase, 'backoff');
  assert.equal(state.lastResult, 'exit-code');
  assert.deepEqual(state.lastExit, { code: 1, signal: null });
  const schedule = effects.find((e) => e.type === 'schedule');
  assert.deepEqual(schedule, { type: 'schedule', timer: 'backoff', generation: state.generation, at: 600 });
  const next = transition(state, { type: 'timer-fired', timer: 'backoff', generation: state.generation }, at(600));
  assert.equal(next.state.phase, 'starting');
  assert.equal(next.state.restarts, 1);
});

test('an exit that left the group empty skips the cleanup stop and respawns at once', () => {
  const { state, effects } = run(
    [
      [0, { type: 'start-requested' }],
      [1, { type: 'spawned', pid: 10 }],
      [5, { type: 'exited', pid: 10, code: 1, signal: null, groupEmpty: true }],
    ],
    { backoff: { initial: 0, max: 0, reset_after: 60_000 } },
  );
  assert.equal(state.phase, 'starting');
  assert.equal(
    effects.some((e) => e.type === 'stop-group'),
    false,
  );
  assert.deepEqual(
    effects.map((e) => (e.type === 'emit' ? e.notice.kind : e.type)),
    ['spawn', 'spawned', 'exited', 'restarting', 'spawn'],
  );
});

test('a timer from an earlier generation is ignored', () => {
  const { state } = run([[0, { type: 'start-requested' }], [1, { type: 'spawned', pid: 10 }], ...crash(500, 10)]);
  const stale = transition(state, { type: 'timer-fired', timer: 'backoff', generation: state.generation - 1 }, at(600));
  assert.equal(stale.state, state);
  assert.equal(stale.effects.length, 0);
});

test('an exit of another pid (an earlier life) is ignored', () => {
  const { state } = run([
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ]);
  const out = transition(state, { type: 'exited', pid: 9, code: 1, signal: null }, at(5));
  assert.equal(out.state, state);
});

test('on-failure: a clean exit completes, a non-zero exit and SIGKILL restart, SIGTERM from outside does not', () => {
  const up: Array<[number, UnitInput]> = [
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ];
  const cases: Array<[number | null, string | null, Phase, string]> = [
    [0, null, 'exited', 'success'],
    [3, null, 'backoff', 'exit-code'],
    [null, 'SIGKILL', 'backoff', 'signal'],
    [null, 'SIGTERM', 'exited', 'signal'],
  ];
  for (const [code, signal, phase, result] of cases) {
    const { state } = run([...up, ...crash(50, 10, code, signal)], { restart: 'on-failure' });
    assert.equal(state.phase, phase, `${code} ${signal}`);
    assert.equal(state.lastResult, result, `${code} ${signal}`);
  }
});

test('never: every exit rests in exited with its result', () => {
  const { state, effects } = run([[0, { type: 'start-requested' }], [1, { type: 'spawned', pid: 10 }], ...crash(50, 10, 2)], {
    restart: 'never',
  });
  assert.equal(state.phase, 'exited');
  assert.equal(state.lastResult, 'exit-code');
  assert.ok(effects.some((e) => e.type === 'emit' && e.notice.kind === 'completed'));
});

test('backoff grows while crashes come fast, and resets after a long run', () => {
  let { state } = run(
    [
      [0, { type: 'start-requested' }],
      [1, { type: 'spawned', pid: 1 }],
    ],
    { start_limit: { burst: 100, interval: 10_000 } },
  );
  const delays: number[] = [];
  let now = 1;
  let pid = 1;
  const lifetimes = [10, 10, 10, 10, 70_000, 10];
  for (const life of lifetimes) {
    now += life;
    const out = run(crash(now, pid), { start_limit: { burst: 100, interval: 10_000 } }, state);
    const restarting = out.effects.find((e) => e.type === 'emit' && e.notice.kind === 'restarting');
    assert.ok(restarting && restarting.type === 'emit' && restarting.notice.kind === 'restarting');
    delays.push(restarting.notice.delayMs);
    now += restarting.notice.delayMs;
    pid += 1;
    state = run(
      [
        [now, { type: 'timer-fired', timer: 'backoff', generation: out.state.generation }],
        [now, { type: 'spawned', pid }],
      ],
      {},
      out.state,
    ).state;
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 100, 200]);
});

test('initial 0 respawns at once, without a timer', () => {
  const { state, effects } = run([[0, { type: 'start-requested' }], [1, { type: 'spawned', pid: 10 }], ...crash(5, 10)], {
    backoff: { initial: 0, max: 0, reset_after: 60_000 },
  });
  assert.equal(state.phase, 'starting');
  assert.equal(effects.filter((e) => e.type === 'spawn').length, 2);
  assert.equal(
    effects.some((e) => e.type === 'schedule'),
    false,
  );
});

test('the start limit parks a crash loop in fatal, and an operator start clears it', () => {
  const fast = { backoff: { initial: 0, max: 0, reset_after: 60_000 } };
  let events: Array<[number, UnitInput]> = [[0, { type: 'start-requested' }]];
  for (let pid = 1; pid <= 5; pid++) events = events.concat([[pid, { type: 'spawned', pid }], ...crash(pid, pid)]);
  const { state, effects } = run(events, fast);
  assert.equal(state.phase, 'fatal');
  assert.equal(state.lastResult, 'start-limit');
  assert.equal(effects.filter((e) => e.type === 'spawn').length, 5, 'burst 5: five starts, no sixth');
  assert.ok(effects.some((e) => e.type === 'emit' && e.notice.kind === 'fatal'));
  const again = transition(state, { type: 'start-requested' }, at(6, fast));
  assert.equal(again.state.phase, 'starting');
  assert.deepEqual(again.state.starts, [6]);
  assert.equal(again.state.failures, 0);
});

test('a program that cannot start loops through backoff into fatal', () => {
  const events: Array<[number, UnitInput]> = [[0, { type: 'start-requested' }]];
  for (let i = 0; i < 5; i++) events.push([i, { type: 'spawn-failed', error: 'program not found' }]);
  const { state } = run(events, { backoff: { initial: 0, max: 0, reset_after: 1000 } });
  assert.equal(state.phase, 'fatal');
});

test('operator stop: stopping until the group is gone; forced stop records stop-timeout', () => {
  const up = run([
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ]).state;
  const stopping = transition(up, { type: 'stop-requested', reason: 'operator' }, at(100));
  assert.deepEqual(
    stopping.effects.find((e) => e.type === 'stop-group'),
    { type: 'stop-group', signal: 'SIGTERM', timeoutMs: 10_000 },
  );
  const exited = transition(stopping.state, { type: 'exited', pid: 10, code: null, signal: 'SIGKILL' }, at(200));
  assert.equal(exited.state.phase, 'stopping', 'the group may still have members');
  const clean = transition(exited.state, { type: 'group-gone', forced: false }, at(201));
  assert.equal(clean.state.phase, 'stopped');
  assert.equal(clean.state.lastResult, 'success');
  const forced = transition(exited.state, { type: 'group-gone', forced: true }, at(201));
  assert.equal(forced.state.lastResult, 'stop-timeout');
});

test('an operator stop during the cleanup after a crash wins over the respawn and keeps the crash result', () => {
  const up = run([
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ]).state;
  const crashed = transition(up, { type: 'exited', pid: 10, code: 7, signal: null }, at(50)).state;
  const stopped = run(
    [
      [51, { type: 'stop-requested', reason: 'shutdown' }],
      [52, { type: 'group-gone', forced: false }],
    ],
    {},
    crashed,
  ).state;
  assert.equal(stopped.phase, 'stopped');
  assert.equal(stopped.lastResult, 'exit-code');
});

test('operator restart: stop then start at once, no backoff, counted as a restart', () => {
  const up = run([
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ]).state;
  const { state, effects } = run(
    [
      [100, { type: 'restart-requested' }],
      [101, { type: 'exited', pid: 10, code: null, signal: 'SIGTERM' }],
      [102, { type: 'group-gone', forced: false }],
    ],
    {},
    up,
  );
  assert.equal(state.phase, 'starting');
  assert.equal(state.restarts, 1);
  assert.equal(
    effects.some((e) => e.type === 'schedule'),
    false,
  );
});

test('stop in backoff cancels the timer', () => {
  const { state } = run([[0, { type: 'start-requested' }], [1, { type: 'spawned', pid: 10 }], ...crash(5, 10)]);
  const out = transition(state, { type: 'stop-requested', reason: 'operator' }, at(10));
  assert.equal(out.state.phase, 'stopped');
  assert.deepEqual(out.effects[0], { type: 'cancel', timer: 'backoff' });
});

test('over max_memory: stop the group, then restart by policy with result memory', () => {
  const up = run([
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ]).state;
  const { state, effects } = run(
    [
      [100, { type: 'memory-exceeded', rssBytes: 600, limitBytes: 500 }],
      [101, { type: 'exited', pid: 10, code: null, signal: 'SIGTERM' }],
      [102, { type: 'group-gone', forced: false }],
    ],
    { restart: 'on-failure' },
    up,
  );
  assert.equal(state.phase, 'backoff');
  assert.equal(state.lastResult, 'memory');
  assert.ok(effects.some((e) => e.type === 'emit' && e.notice.kind === 'memory-exceeded'));
  const never = run(
    [
      [100, { type: 'memory-exceeded', rssBytes: 600, limitBytes: 500 }],
      [102, { type: 'group-gone', forced: false }],
    ],
    { restart: 'never' },
    up,
  ).state;
  assert.equal(never.phase, 'exited');
  assert.equal(never.lastResult, 'memory');
});

test('a restart tend makes itself says why in its stopping notice (cron_restart, watch, a dependency); an operator restart says operator', () => {
  const up: Array<[number, UnitInput]> = [
    [0, { type: 'start-requested' }],
    [1, { type: 'spawned', pid: 10 }],
  ];
  for (const reason of ['schedule', 'watch', 'dependency', undefined] as const) {
    const { effects } = run([...up, [5, { type: 'restart-requested', ...(reason === undefined ? {} : { reason }) }]]);
    const stopping = effects.find((e) => e.type === 'emit' && e.notice.kind === 'stopping');
    assert.deepEqual(stopping?.type === 'emit' ? stopping.notice : null, {
      kind: 'stopping',
      signal: 'SIGTERM',
      reason: reason ?? 'operator',
    });
  }
});
