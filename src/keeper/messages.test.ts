import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEngineMessage } from './messages.js';

const log = { file: '/tmp/x.log', maxSize: 10, keep: 1, instance: 0 };
const spawn = (spec: object) => ({
  type: 'commit',
  ackSeq: 0,
  state: {},
  calls: [{ op: 'spawn', spec: { unit: 'web.0', cwd: '/', argv: ['true'], env: {}, log, ...spec } }],
});

const refused: Array<[unknown, RegExp]> = [
  [null, /without a type/],
  ['pong', /without a type/],
  [{ type: 'explode' }, /unknown message type "explode"/],
  [{ type: 'commit', calls: [], state: {} }, /without a valid ackSeq/],
  [{ type: 'commit', ackSeq: -1, calls: [], state: {} }, /without a valid ackSeq/],
  [{ type: 'commit', ackSeq: 1, calls: 'x', state: {} }, /without a list of calls/],
  [{ type: 'commit', ackSeq: 1, calls: [] }, /without a state/],
  [{ type: 'commit', ackSeq: 1, calls: [], state: { units: [] } }, /state.units is not an object/],
  [{ type: 'commit', ackSeq: 1, calls: [{ op: 'fork-bomb' }], state: {} }, /unknown call "fork-bomb"/],
  [{ type: 'commit', ackSeq: 1, calls: [{ op: 'signal-group', unit: 'web.0', signal: 'SIGNOPE' }], state: {} }, /known signal/],
  [
    { type: 'commit', ackSeq: 1, calls: [{ op: 'stop-group', unit: 'web.0', options: { signal: 'SIGTERM', timeoutMs: -5 } }], state: {} },
    /a timeout/,
  ],
  [spawn({ argv: [] }), /spawn of web.0 without an argv/],
  [spawn({ argv: ['ls', 3] }), /spawn of web.0 without an argv/],
  [spawn({ env: { A: 1 } }), /env is not strings/],
  [spawn({ log: { file: '/x' } }), /without a log target/],
  [spawn({ unit: '' }), /without a unit and a cwd/],
  [spawn({ notifyFd: 1 }), /notification fd outside 3 to 63/],
  [spawn({ notifyFd: 100000 }), /notification fd outside 3 to 63/],
];

for (const [message, reason] of refused) {
  test(`keeper refuses ${JSON.stringify(message)?.slice(0, 70)}`, () => {
    const parsed = parseEngineMessage(message);
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, reason);
  });
}

test('keeper accepts well-formed messages, keeping only the fields it knows', () => {
  const parsed = parseEngineMessage(spawn({ extra: 'dropped', notifyFd: 3 }));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, {
    type: 'commit',
    ackSeq: 0,
    state: {},
    calls: [
      {
        op: 'spawn',
        spec: { unit: 'web.0', cwd: '/', argv: ['true'], env: {}, log: { ...log, compress: false, mode: 0o600 }, notifyFd: 3 },
      },
    ],
  });
  assert.deepEqual(parseEngineMessage({ type: 'pong', id: 5 }), { ok: true, value: { type: 'pong', id: 5 } });
  assert.deepEqual(parseEngineMessage({ type: 'down', junk: 1 }), { ok: true, value: { type: 'down' } });
  assert.deepEqual(parseEngineMessage({ type: 'stats', id: 7 }), { ok: true, value: { type: 'stats', id: 7 } });
});
