import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spellDuration, parseDuration, parseSignal, parseSize } from './units.js';

test('parseDuration', () => {
  const table: [string | number, number | null][] = [
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['1m30s', 90_000],
    [' 10 s ', 10_000],
    ['0', 0],
    [0, 0],
    ['0.0', 0],
    ['0.5s', 500],
    ['10', null],
    [10, null],
    ['', null],
    ['10 seconds', null],
    ['-1s', null],
    ['1d', null],
    ['s', null],
    [-5, null],
  ];
  for (const [input, expected] of table) assert.equal(parseDuration(input), expected, JSON.stringify(input));
});

test('spellDuration', () => {
  const table: [number, string][] = [
    [0, '0ms'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [3_600_000, '1h'],
  ];
  for (const [input, expected] of table) assert.equal(spellDuration(input), expected, String(input));
});

test('parseSize', () => {
  const table: [string | number, number | null][] = [
    ['512', 512],
    [512, 512],
    ['10K', 10_240],
    ['10k', 10_240],
    ['10M', 10 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['10MB', 10 * 1024 ** 2],
    ['10MiB', 10 * 1024 ** 2],
    ['1.5K', 1536],
    [0, 0],
    ['10 megabytes', null],
    ['10X', null],
    [-1, null],
    [1.5, null],
    ['', null],
  ];
  for (const [input, expected] of table) assert.equal(parseSize(input), expected, JSON.stringify(input));
});

test('parseSignal', () => {
  const table: [string, string | null][] = [
    ['SIGTERM', 'SIGTERM'],
    ['TERM', 'SIGTERM'],
    ['sigint', 'SIGINT'],
    [' hup ', 'SIGHUP'],
    ['SIGTREM', null],
    ['15', null],
    ['', null],
  ];
  for (const [input, expected] of table) assert.equal(parseSignal(input), expected, input);
});
