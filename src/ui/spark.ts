// Sparklines: a unit's CPU or memory over the last 15 minutes as one SVG path, drawn by hand
// (no chart library). Time runs along x with the newest sample at the right edge, so units
// started at different times line up; a stretch without samples (not running) is a gap.
import { html } from './html.js';

export const SPARK_WINDOW_MS = 15 * 60_000;
const WIDTH = 60;
const HEIGHT = 16;
/** Samples further apart than this (10 s apart normally) are not joined. */
const GAP_MS = 25_000;

/** The path `d` of values sampled at `at` (ascending), scaled so that `top` reaches the top. */
export function sparkPath(at: readonly number[], values: readonly number[], newest: number, top: number): string {
  let d = '';
  let previous = Number.NEGATIVE_INFINITY;
  for (const [i, time] of at.entries()) {
    const x = WIDTH - ((newest - time) / SPARK_WINDOW_MS) * WIDTH;
    const y = HEIGHT - 1 - (Math.min(values[i] ?? 0, top) / top) * (HEIGHT - 2);
    // A lone sample still shows: a zero-length segment with round caps is a dot.
    d += time - previous > GAP_MS ? `M${x.toFixed(1)} ${y.toFixed(1)}l0 0` : `L${x.toFixed(1)} ${y.toFixed(1)}`;
    previous = time;
  }
  return d;
}

export function Spark({ d, label }: { readonly d: string; readonly label: string }) {
  return html`<svg class="spark" viewBox="0 0 ${WIDTH} ${HEIGHT}" width=${WIDTH} height=${HEIGHT} role="img" aria-label=${label}>
    <title>${label}</title>
    <path d=${d} />
  </svg>`;
}
