// The answer region (#answer): every action says how it went there, in the API's own words — a
// line per unit ("web: started (pid 123)"), or the error with its details and hint.
import type { ActionResponse } from '../api/protocol.js';
import type { ApiError } from './api.js';
import { html } from './html.js';

export interface Answer {
  readonly tone: 'busy' | 'ok' | 'bad';
  readonly lines: readonly string[];
  /** A follow-up the answer offers: "Stop with dependents" after a refused stop. */
  readonly offer?: { readonly id: string; readonly text: string; readonly run: () => Promise<void> };
}

export type Show = (answer: Answer) => void;

export function resultsAnswer(response: ActionResponse, target: string): Answer {
  if (response.results.length === 0) return { tone: 'ok', lines: [`${target}: nothing to do`] };
  return {
    tone: response.results.every((r) => r.ok) ? 'ok' : 'bad',
    lines: response.results.map((r) => `${r.label}: ${r.message}`),
  };
}

export function errorLines(error: ApiError): string[] {
  return [error.message, ...(error.details ?? []), ...(error.hint === undefined ? [] : [`hint: ${error.hint}`])];
}

export function AnswerRegion({ answer }: { readonly answer: Answer | null }) {
  const [first, ...rest] = answer?.lines ?? [];
  return html`<div id="answer" role="status" aria-live="polite" data-tone=${answer?.tone ?? 'none'}>
    ${first === undefined ? null : html`<p class="answer-head">${first}</p>`}
    ${rest.length > 0 ? html`<ul class="answer-more">${rest.map((line) => html`<li>${line}</li>`)}</ul>` : null}
    ${answer?.offer ? html`<button type="button" id=${answer.offer.id} class="offer" onClick=${answer.offer.run}>${answer.offer.text}</button>` : null}
  </div>`;
}
