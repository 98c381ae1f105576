import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatListen, isLoopback, parseListen } from './listen.js';

test('parseListen', () => {
  const table: [string | number, string | null][] = [
    [7070, '127.0.0.1:7070'],
    ['7070', '127.0.0.1:7070'],
    [' 0 ', '127.0.0.1:0'],
    ['65535', '127.0.0.1:65535'],
    ['0.0.0.0:80', '0.0.0.0:80'],
    ['localhost:7070', 'localhost:7070'],
    ['tend.example.org:1', 'tend.example.org:1'],
    ['[::1]:7070', '[::1]:7070'],
    ['[::]:0', '[::]:0'],
    ['[fe80::1%eth0]:80', '[fe80::1%eth0]:80'],
    ['65536', null],
    [70000, null],
    [-1, null],
    [1.5, null],
    ['', null],
    [':7070', null],
    ['localhost', null],
    ['localhost:', null],
    ['::1:7070', null],
    ['::1', null],
    ['999.0.0.1:80', null],
    ['a_b:80', null],
    ['http://localhost:7070', null],
    ['[localhost]:80', null],
    ['127.0.0.1:99999999999999999999', null],
  ];
  for (const [input, expected] of table) {
    const parsed = parseListen(input);
    assert.equal(parsed.ok ? formatListen(parsed.address) : null, expected, JSON.stringify(input));
  }
});

test('isLoopback', () => {
  const table: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['localhost', true],
    ['LocalHost', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::0001', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['1::1', false],
    ['::ffff:10.0.0.1', false],
    ['localhost.example.org', false],
    ['example.org', false],
  ];
  for (const [host, expected] of table) assert.equal(isLoopback(host), expected, host);
});
