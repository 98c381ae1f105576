import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorOf, createTerminalFormatter, neutralize, shouldUseColor } from './terminal.js';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');

test('terminal: labels padded to the widest name, one Buffer per batch', () => {
  const formatter = createTerminalFormatter({ color: false, names: ['web.0', 'web.1', 'db'] });
  assert.equal(formatter.format('web.0', [b('hello'), b(''), b('é')], 'out').toString(), 'web.0 | hello\nweb.0 | \nweb.0 | é\n');
  assert.equal(formatter.format('db', [b('ready')], 'err').toString(), 'db    | ready\n');
  assert.equal(formatter.format('db', [], 'out').length, 0);
  assert.equal(formatter.formatText('tend', 'web.0 exited with code 1').toString(), 'tend  | web.0 exited with code 1\n');
  assert.equal(formatter.formatText('tend', 'a\nb\n').toString(), 'tend  | a\ntend  | b\n');
});

test('terminal: "tend" counts for the width, and a longer unknown label widens the column', () => {
  const formatter = createTerminalFormatter({ color: false, names: ['a'] });
  assert.equal(formatter.format('a', [b('x')], 'out').toString(), 'a    | x\n');
  assert.equal(formatter.format('longer.0', [b('y')], 'out').toString(), 'longer.0 | y\n');
  assert.equal(formatter.format('a', [b('z')], 'out').toString(), 'a        | z\n');
});

test('terminal: colour by service name, stable, shared by instances', () => {
  const formatter = createTerminalFormatter({ color: true, names: ['web.0', 'web.1'] });
  const web = colorOf('web');
  assert.equal(colorOf('web.0'), web);
  assert.equal(colorOf('web.1'), web);
  assert.match(web, /^\x1b\[\d+m$/);
  assert.equal(formatter.format('web.1', [b('hi')], 'out').toString(), `${web}web.1 | \x1b[0mhi\n`);
  assert.equal(formatter.formatText('tend', 'up').toString(), '\x1b[1mtend  | \x1b[0m\x1b[2mup\x1b[0m\n');
  // The palette is spread: a handful of typical names do not all share one colour.
  const colours = new Set(['web', 'db', 'worker', 'api', 'cache', 'queue', 'migrate'].map(colorOf));
  assert.ok(colours.size >= 4, `only ${colours.size} colours`);
  // Stable across runs: pinned values (FNV-1a), so a change of hash shows up here.
  assert.deepEqual(['web', 'db', 'worker'].map(colorOf), ['\x1b[33m', '\x1b[35m', '\x1b[95m']);
});

test('shouldUseColor: table', async (t) => {
  const cases: { name: string; isTTY: boolean; env: Record<string, string>; want: boolean }[] = [
    { name: 'tty', isTTY: true, env: {}, want: true },
    { name: 'not a tty', isTTY: false, env: {}, want: false },
    { name: 'NO_COLOR', isTTY: true, env: { NO_COLOR: '1' }, want: false },
    { name: 'NO_COLOR empty is unset', isTTY: true, env: { NO_COLOR: '' }, want: true },
    { name: 'TERM=dumb', isTTY: true, env: { TERM: 'dumb' }, want: false },
    { name: 'FORCE_COLOR=1 without tty', isTTY: false, env: { FORCE_COLOR: '1' }, want: true },
    { name: 'FORCE_COLOR beats NO_COLOR (as in Node)', isTTY: false, env: { FORCE_COLOR: '1', NO_COLOR: '1' }, want: true },
    { name: 'FORCE_COLOR=0', isTTY: true, env: { FORCE_COLOR: '0' }, want: false },
    { name: 'FORCE_COLOR=true with TERM=dumb', isTTY: false, env: { FORCE_COLOR: 'true', TERM: 'dumb' }, want: true },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.equal(shouldUseColor({ isTTY: c.isTTY, env: c.env }), c.want));
  }
});

test('terminal: escape sequences and control characters from a service are shown, never obeyed; colour kept only with colour on', () => {
  const hostile = b('a\x1b]0;pwned\x07b\x1b[2Jc\x1b[31mred\x1b[0m\x08\x7f\tend\u009b6n\r');
  assert.equal(neutralize(hostile, false).toString(), 'a^[]0;pwned^Gb^[[2Jcred^H^?\tendM-^[6n^M');
  assert.equal(neutralize(hostile, true).toString(), 'a^[]0;pwned^Gb^[[2Jc\x1b[31mred\x1b[0m^H^?\tendM-^[6n^M');
  const plain = b('nothing to see here, é and tabs\t');
  assert.equal(neutralize(plain, true), plain, 'a clean line is passed through as is');
  const formatter = createTerminalFormatter({ color: false, names: ['web'] });
  assert.equal(formatter.format('web', [b('\x1b]52;c;Y2xpcA==\x07')], 'out').toString(), 'web  | ^[]52;c;Y2xpcA==^G\n');
});
