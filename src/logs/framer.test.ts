import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFramer } from './framer.js';

/** Every line the framer yields for these chunks, EOF included, as strings (latin1 keeps bytes). */
function frame(chunks: readonly Buffer[], maxLineBytes?: number): string[] {
  const framer = createFramer(maxLineBytes === undefined ? {} : { maxLineBytes });
  const lines: Buffer[] = [];
  for (const chunk of chunks) lines.push(...framer.push(chunk));
  lines.push(...framer.end());
  return lines.map((line) => line.toString('latin1'));
}

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const l = (text: string): string => b(text).toString('latin1');

const cases: { name: string; input: string; max?: number; lines: string[] }[] = [
  { name: 'plain lines', input: 'a\nbc\n', lines: ['a', 'bc'] },
  { name: 'nothing', input: '', lines: [] },
  { name: 'CRLF', input: 'a\r\nbc\r\n', lines: ['a', 'bc'] },
  { name: 'only one CR is stripped', input: 'x\r\r\n', lines: ['x\r'] },
  { name: 'CR inside a line stays', input: 'a\rb\n', lines: ['a\rb'] },
  { name: 'empty lines', input: '\n\n\r\n', lines: ['', '', ''] },
  { name: 'partial last line flushed at end', input: 'a\nbc', lines: ['a', 'bc'] },
  { name: 'partial last line loses a final CR', input: 'a\r', lines: ['a'] },
  { name: 'long line split', input: 'abcdefghij\n', max: 8, lines: ['abcdefgh', 'ij'] },
  { name: 'exactly max is whole', input: 'abcdefgh\n', max: 8, lines: ['abcdefgh'] },
  { name: 'exactly max with CRLF', input: 'abcdefgh\r\n', max: 8, lines: ['abcdefgh'] },
  { name: 'twice max: no empty piece', input: 'abcdefghABCDEFGH\n', max: 8, lines: ['abcdefgh', 'ABCDEFGH'] },
  { name: 'long partial line', input: 'abcdefghABC', max: 8, lines: ['abcdefgh', 'ABC'] },
  { name: 'utf-8: 2-byte char kept whole', input: 'abcdefgé\n', max: 8, lines: ['abcdefg', 'é'] },
  { name: 'utf-8: 4-byte char kept whole', input: 'abcde😀x\n', max: 8, lines: ['abcde', '😀x'] },
  { name: 'utf-8: char ending at max', input: 'abcdef€xy\n', max: 9, lines: ['abcdef€', 'xy'] },
];

test('framer: table', async (t) => {
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.deepEqual(frame([b(c.input)], c.max), c.lines.map(l));
    });
  }
});

test('framer: invalid UTF-8 is cut at exactly max', () => {
  const input = Buffer.concat([Buffer.alloc(10, 0x80), b('\n')]);
  assert.deepEqual(
    frame([input], 4).map((line) => line.length),
    [4, 4, 2],
  );
});

test('framer: the same lines whatever the chunk boundaries (every split pair)', () => {
  const inputs = [
    'one\r\ntwo\n\nthree-is-longer\r\n\r\n€uro😀 and more text here\nlast\r',
    'abcdefgh\r\nabcdefghi\r\n\r\rx\n',
    'ééééééé\n😀😀😀😀\r\ntail-without-newline-is-long',
  ];
  for (const text of inputs) {
    for (const max of [4, 8, 9, 16384]) {
      const input = b(text);
      const expected = frame([input], max);
      for (let i = 0; i <= input.length; i++) {
        for (let j = i; j <= input.length; j++) {
          const chunks = [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
          assert.deepEqual(frame(chunks, max), expected, `max ${max}, splits at ${i}/${j} of ${JSON.stringify(text)}`);
        }
      }
      const bytes = [...input].map((byte) => Buffer.from([byte]));
      assert.deepEqual(frame(bytes, max), expected, `max ${max}, byte by byte`);
    }
  }
});

test('framer: every piece of a split line is valid UTF-8 and nothing is lost', () => {
  const text = 'aé€😀'.repeat(500);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const max of [4, 5, 6, 7, 100]) {
    const framer = createFramer({ maxLineBytes: max });
    const pieces = [...framer.push(b(`${text}\n`)), ...framer.end()];
    for (const piece of pieces) {
      assert.ok(piece.length <= max && piece.length > 0);
      decoder.decode(piece);
    }
    assert.equal(pieces.map((piece) => piece.toString('utf8')).join(''), text);
  }
});

test('framer: an overlong line is emitted before its newline arrives, memory stays bounded', () => {
  const framer = createFramer({ maxLineBytes: 8 });
  const early = framer.push(b('x'.repeat(20)));
  assert.deepEqual(early.map(String), ['xxxxxxxx', 'xxxxxxxx']);
  assert.deepEqual(framer.push(b('yy\n')).map(String), ['xxxxyy']);
  assert.deepEqual(framer.end(), []);
});

test('framer: huge line with the default max is split, never dropped', () => {
  const huge = Buffer.alloc(100_000, 'z');
  const framer = createFramer();
  const lines = [...framer.push(huge.subarray(0, 65_536)), ...framer.push(huge.subarray(65_536)), ...framer.push(b('\n'))];
  assert.deepEqual(
    lines.map((line) => line.length),
    [16384, 16384, 16384, 16384, 16384, 16384, 1696],
  );
});

test('framer: the partial tail is copied, so the caller may reuse its chunk', () => {
  const framer = createFramer();
  const chunk = b('done\npart');
  const first = framer.push(chunk);
  assert.deepEqual(first.map(String), ['done']);
  chunk.fill(0x21);
  assert.deepEqual(framer.push(b('ial\n')).map(String), ['partial']);
});

test('framer: end() resets, the framer can be reused', () => {
  const framer = createFramer();
  framer.push(b('a'));
  assert.deepEqual(framer.end().map(String), ['a']);
  assert.deepEqual(framer.end(), []);
  assert.deepEqual(framer.push(b('b\n')).map(String), ['b']);
});

test('framer: maxLineBytes must leave room for one UTF-8 character', () => {
  for (const bad of [0, 3, 4.5, Number.NaN]) {
    assert.throws(() => createFramer({ maxLineBytes: bad }), RangeError);
  }
});
