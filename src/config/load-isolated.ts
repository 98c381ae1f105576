// Loading the config in a worker thread. zod and yaml take ~20 MB resident once loaded and a
// long-running engine needs them only for a moment at start and at each reload: in a worker
// they go away with it, and the engine keeps only the plain Config (or the diagnostics) it sends.
import { Worker } from 'node:worker_threads';
import { TendError, isErrorCode } from '../errors.js';
import type { LoadOptions, LoadResult } from './load.js';

/** What the worker posts back: the result, or the TendError it threw, as data. */
export type WorkerAnswer =
  | { readonly result: LoadResult }
  | { readonly error: { readonly code: string; readonly message: string; readonly hint?: string } };

export async function loadConfigIsolated(options: LoadOptions): Promise<LoadResult> {
  const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: options });
  try {
    const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the config worker exited with code ${code}`)));
    });
    if ('result' in answer) return answer.result;
    const { code, message, hint } = answer.error;
    if (!isErrorCode(code)) throw new Error(message);
    throw new TendError(code, '', { message, ...(hint === undefined ? {} : { hint }) });
  } finally {
    void worker.terminate();
  }
}
