// The worker side of load-isolated.ts: load, post the answer, and let the thread end.
import { parentPort, workerData } from 'node:worker_threads';
import { isTendError } from '../errors.js';
import type { WorkerAnswer } from './load-isolated.js';
import { loadConfig, type LoadOptions } from './load.js';

let answer: WorkerAnswer;
try {
  answer = { result: loadConfig(workerData as LoadOptions) };
} catch (error) {
  if (!isTendError(error)) throw error; // a bug: the worker's 'error' event carries it
  answer = { error: { code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) } };
}
parentPort?.postMessage(answer);
