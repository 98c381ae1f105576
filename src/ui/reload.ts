// Reload with a look first: #reload asks for the dry run (the plan, nothing changed) and shows it
// in a modal dialog, each service as `tend reload --dry-run` says it; #reload-apply applies it.
// A config that does not load gets its error and diagnostics instead, and nothing to apply.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ReloadResponse, ServiceChange } from '../api/protocol.js';
import { describeChange } from '../cli/render/reload.js';
import { type ApiError, post } from './api.js';
import { type Answer, errorLines, type Show } from './answer.js';
import { html } from './html.js';
import { onSessionEnd } from './session.js';

type Plan = { readonly ok: true; readonly changes: readonly ServiceChange[] } | { readonly ok: false; readonly error: ApiError };

const changeLine = (change: ServiceChange, dry: boolean) => `${change.service}: ${describeChange(change, dry)}`;

/** What an applied reload did, as #answer says it: a line per service that changed, then the notes. */
function appliedAnswer(response: ReloadResponse): Answer {
  const changed = (response.services ?? []).filter((c) => c.action !== 'keep').map((c) => changeLine(c, false));
  // An engine before the per-service plan answers with unit lists only.
  const lists =
    response.services === undefined
      ? (['started', 'stopped', 'restarted', 'scaled', 'updated'] as const)
          .filter((k) => response[k].length > 0)
          .map((k) => `${k}: ${response[k].join(', ')}`)
      : [];
  const lines = [...changed, ...lists, ...(response.notes ?? [])];
  return { tone: 'ok', lines: lines.length === 0 ? ['reloaded: nothing changed'] : ['reloaded', ...lines] };
}

export function Reload({ configFile, show }: { readonly configFile: string; readonly show: Show }) {
  const [plan, setPlan] = useState<Plan | null>(null);
  const [busy, setBusy] = useState<'plan' | 'apply' | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const el = dialog.current;
    if (el !== null && plan !== null && !el.open) el.showModal();
  }, [plan]);
  // The page goes inert when the session ends: a modal left open would hold the keyboard.
  useEffect(() => onSessionEnd(() => dialog.current?.close()), []);

  const askPlan = async () => {
    setBusy('plan');
    const outcome = await post<ReloadResponse>('/v1/reload', { dryRun: true });
    setBusy(null);
    setPlan(outcome.ok ? { ok: true, changes: outcome.value.services ?? [] } : { ok: false, error: outcome.error });
  };
  const apply = async () => {
    setBusy('apply');
    show({ tone: 'busy', lines: ['Reloading…'] });
    const outcome = await post<ReloadResponse>('/v1/reload', {});
    setBusy(null);
    show(outcome.ok ? appliedAnswer(outcome.value) : { tone: 'bad', lines: ['reload failed', ...errorLines(outcome.error)] });
    dialog.current?.close();
  };
  // The button was disabled while the plan was asked for, so the dialog has no focus to give back: it goes to #reload.
  const closed = () => {
    setPlan(null);
    button.current?.focus();
  };
  const changes = plan?.ok ? plan.changes : [];
  const nothing = changes.every((c) => c.action === 'keep');

  return html`<button type="button" id="reload" ref=${button} onClick=${askPlan} disabled=${busy === 'plan'} aria-busy=${busy === 'plan' ? 'true' : null}>Reload…</button>
    <dialog id="reload-plan" ref=${dialog} aria-labelledby="reload-heading" onClose=${closed}>
      <h2 id="reload-heading">Reload ${configFile}</h2>
      ${
        plan === null
          ? null
          : plan.ok
            ? html`<p id="reload-summary">${nothing ? 'nothing would change' : 'A reload would:'}</p>
                <ul id="reload-changes">
                  ${changes.map((c) => html`<li key=${c.service} data-service=${c.service} data-action=${c.action} class=${c.action === 'keep' ? 'muted' : ''}>${changeLine(c, true)}</li>`)}
                </ul>`
            : html`<div id="reload-error" role="alert">
                <p>The dry run failed: ${plan.error.message}</p>
                ${plan.error.details?.length ? html`<ul class="details">${plan.error.details.map((d) => html`<li>${d}</li>`)}</ul>` : null}
                ${plan.error.hint ? html`<p class="muted">hint: ${plan.error.hint}</p>` : null}
              </div>`
      }
      <div class="dialog-buttons">
        ${plan?.ok ? html`<button type="button" id="reload-apply" class="primary" onClick=${apply} disabled=${busy === 'apply'}>Apply</button>` : null}
        <button type="button" id="reload-cancel" onClick=${() => dialog.current?.close()}>${plan?.ok ? 'Cancel' : 'Close'}</button>
      </div>
    </dialog>`;
}
