// What the keeper accepts from an engine, checked field by field: the keeper outlives every
// engine, so a message that is malformed (a bug, a half-upgraded engine, a foreign process on
// the channel) is refused here with one sentence, never acted on and never thrown.
import { constants } from 'node:os';
import type { EngineAnnouncement, EngineToKeeper, HostCall } from '../host/keeper-protocol.js';

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = (reason: string): Parsed<never> => ({ ok: false, reason });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isSignal = (v: unknown): v is NodeJS.Signals => typeof v === 'string' && Object.hasOwn(constants.signals, v);
const isStringRecord = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');
const isRecord = (v: unknown): v is Record<string, unknown> => isObject(v);

export function parseEngineMessage(raw: unknown): Parsed<EngineToKeeper> {
  if (!isObject(raw) || typeof raw.type !== 'string') return refuse('a message without a type');
  switch (raw.type) {
    case 'pong':
      return ok({ type: 'pong', id: typeof raw.id === 'number' ? raw.id : 0 });
    case 'stats':
      return ok({ type: 'stats', id: typeof raw.id === 'number' ? raw.id : 0 });
    case 'upgrade':
    case 'down':
      return ok({ type: raw.type });
    case 'announce':
      return ok({ type: 'announce', message: raw.message as EngineAnnouncement }); // relayed as is to `up -d`, which reads it
    case 'commit':
      return parseCommit(raw);
    default:
      return refuse(`an unknown message type "${String(raw.type).slice(0, 40)}"`);
  }
}

function parseCommit(raw: Record<string, unknown>): Parsed<EngineToKeeper> {
  if (!isCount(raw.ackSeq)) return refuse('a commit without a valid ackSeq');
  if (!Array.isArray(raw.calls)) return refuse('a commit without a list of calls');
  const state = raw.state;
  if (!isObject(state)) return refuse('a commit without a state');
  if (state.units !== undefined && !isRecord(state.units)) return refuse('a commit whose state.units is not an object');
  if (state.timers !== undefined && !isRecord(state.timers)) return refuse('a commit whose state.timers is not an object');
  const calls: HostCall[] = [];
  for (const call of raw.calls) {
    const parsed = parseCall(call);
    if (!parsed.ok) return refuse(`a commit with ${parsed.reason}`);
    calls.push(parsed.value);
  }
  return ok({ type: 'commit', ackSeq: raw.ackSeq, calls, state });
}

function parseCall(call: unknown): Parsed<HostCall> {
  if (!isObject(call)) return refuse('a call that is not an object');
  switch (call.op) {
    case 'kill-all':
      return ok({ op: 'kill-all' });
    case 'signal-group':
      if (!isString(call.unit) || !isSignal(call.signal)) return refuse('a signal-group call without a unit and a known signal');
      return ok({ op: 'signal-group', unit: call.unit, signal: call.signal });
    case 'stop-group': {
      const options = call.options;
      if (!isString(call.unit) || !isObject(options) || !isSignal(options.signal) || !isCount(options.timeoutMs)) {
        return refuse('a stop-group call without a unit, a known signal and a timeout');
      }
      return ok({ op: 'stop-group', unit: call.unit, options: { signal: options.signal, timeoutMs: options.timeoutMs } });
    }
    case 'spawn':
      return parseSpawn(call.spec);
    default:
      return refuse(`an unknown call "${String(call.op).slice(0, 40)}"`);
  }
}

function parseSpawn(spec: unknown): Parsed<HostCall> {
  if (!isObject(spec) || !isString(spec.unit) || !isString(spec.cwd)) return refuse('a spawn call without a unit and a cwd');
  const { argv, env, log } = spec;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    return refuse(`a spawn of ${spec.unit} without an argv`);
  if (!isStringRecord(env)) return refuse(`a spawn of ${spec.unit} whose env is not strings`);
  if (!isObject(log) || !isString(log.file) || !isCount(log.maxSize) || !isCount(log.keep) || !isCount(log.instance)) {
    return refuse(`a spawn of ${spec.unit} without a log target`);
  }
  const mode = log.mode === 0o640 || log.mode === 0o644 ? log.mode : 0o600; // never anything wider
  const target = {
    file: log.file,
    maxSize: log.maxSize,
    keep: log.keep,
    instance: log.instance,
    compress: log.compress === true,
    mode,
    ...(isCount(log.gid) ? { gid: log.gid } : {}),
  };
  const runAs = spec.runAs;
  if (runAs !== undefined && (!isObject(runAs) || !isCount(runAs.uid) || !isCount(runAs.gid)))
    return refuse(`a spawn of ${spec.unit} with a bad runAs`);
  const identity =
    runAs === undefined ? {} : { runAs: { uid: runAs.uid as number, gid: runAs.gid as number, initGroups: runAs.initGroups === true } };
  const { notifyFd } = spec;
  if (notifyFd !== undefined && !(isCount(notifyFd) && notifyFd >= 3 && notifyFd <= 63))
    return refuse(`a spawn of ${spec.unit} with a notification fd outside 3 to 63`);
  const notify = notifyFd === undefined ? {} : { notifyFd };
  return ok({ op: 'spawn', spec: { unit: spec.unit, argv: argv as string[], cwd: spec.cwd, env, log: target, ...identity, ...notify } });
}
