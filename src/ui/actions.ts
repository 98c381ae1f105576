// Control actions from the page: POST, then show the answer. A button is disabled while its
// request runs, and keeps the keyboard focus it had once it is enabled again.
import { useState } from 'preact/hooks';
import type { ActionRequest, ActionResponse, ScaleRequest, SignalRequest } from '../api/protocol.js';
import { post } from './api.js';
import { errorLines, resultsAnswer, type Show } from './answer.js';
import { html } from './html.js';

export type ActionSpec =
  | { readonly path: 'start' | 'stop' | 'restart'; readonly body: ActionRequest; readonly target: string }
  | { readonly path: 'signal'; readonly body: SignalRequest; readonly target: string }
  | { readonly path: 'scale'; readonly body: ScaleRequest; readonly target: string };

const doing = { start: 'Starting', stop: 'Stopping', restart: 'Restarting', signal: 'Signalling', scale: 'Scaling' } as const;

export async function perform(spec: ActionSpec, show: Show): Promise<void> {
  show({ tone: 'busy', lines: [`${doing[spec.path]} ${spec.target}…`] });
  const outcome = await post<ActionResponse>(`/v1/${spec.path}`, spec.body);
  if (outcome.ok) return show(resultsAnswer(outcome.value, spec.target));
  const lines = errorLines(outcome.error);
  // A stop of what others depend on is refused; the operator may mean all of it, in order.
  if (spec.path === 'stop' && outcome.error.code === 'TEND_HAS_DEPENDENTS') {
    const withDependents: ActionSpec = {
      ...spec,
      body: { ...spec.body, withDependents: true },
      target: `${spec.target} and its dependents`,
    };
    const run = () => perform(withDependents, show);
    return show({ tone: 'bad', lines, offer: { id: 'stop-with-dependents', text: 'Stop with dependents', run } });
  }
  show({ tone: 'bad', lines });
}

interface ActionButtonProps {
  readonly action: string;
  /** The accessible name, e.g. "Restart web": the visible text alone does not say what it acts on. */
  readonly label: string;
  readonly text: string;
  readonly run: () => Promise<void>;
  readonly disabled?: boolean;
}

export function ActionButton({ action, label, text, run, disabled = false }: ActionButtonProps) {
  const [busy, setBusy] = useState(false);
  const onClick = async (event: MouseEvent) => {
    const button = event.currentTarget;
    setBusy(true);
    try {
      await run();
    } finally {
      setBusy(false);
      // Disabling the focused button dropped its focus to <body>: give it back, after the re-render.
      if (button instanceof HTMLButtonElement)
        requestAnimationFrame(() => {
          if (button.isConnected && (document.activeElement === null || document.activeElement === document.body)) button.focus();
        });
    }
  };
  return html`<button type="button" data-action=${action} aria-label=${label} disabled=${disabled || busy} aria-busy=${busy ? 'true' : null} onClick=${onClick}>
    ${text}
  </button>`;
}
