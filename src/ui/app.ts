// The dashboard: one page over the engine's /v1 API — the services table, the dependency graph,
// events and logs, live from one NDJSON stream (live.ts), and the control actions. Status lines
// drive the table and graph (one render per status line); events and logs subscribe to their own
// kinds and re-render only when the list of services changes.
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { StatusResponse } from '../api/protocol.js';
import { perform, type ActionSpec } from './actions.js';
import { AnswerRegion, type Answer } from './answer.js';
import { Events } from './events.js';
import { Graph, graphSignature, hasDependencies } from './graph.js';
import { html } from './html.js';
import { createLive } from './live.js';
import { Logs } from './logs.js';
import { Reload } from './reload.js';
import { onSessionEnd } from './session.js';
import type { StreamState } from './stream.js';
import { UnitsTable, groupsOf } from './units.js';
import { UsageHistory } from './usage.js';

interface Status {
  readonly value: StatusResponse;
  /** Date.now() when it arrived: the table counts uptimes on from it. */
  readonly receivedAt: number;
}

const connectionText: Readonly<Record<StreamState, string>> = { connecting: 'connecting…', live: 'live', retrying: 'reconnecting…' };

function App() {
  const [status, setStatus] = useState<Status | null>(null);
  const [connection, setConnection] = useState<StreamState>('connecting');
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [ended, setEnded] = useState(false);
  const [usage] = useState(() => new UsageHistory());
  // The history is kept in place (90 points per unit); a new sample bumps this to render it.
  const [, setUsageVersion] = useState(0);

  const [live] = useState(() => createLive(setConnection));
  useEffect(() => onSessionEnd(() => setEnded(true)), []);
  useEffect(() => {
    const stops = [
      // Each status line is the whole status: nothing to drop on a reconnection.
      live.subscribe('status', { onOpen: () => {}, onItem: (value) => setStatus({ value, receivedAt: Date.now() }) }),
      live.subscribe('usage', {
        onOpen: () => usage.clear(),
        onItem: (tick) => {
          usage.add(tick);
          setUsageVersion((v) => v + 1);
        },
      }),
    ];
    return () => {
      for (const stop of stops) stop();
      live.close();
    };
  }, [live, usage]);

  const engine = status?.value.engine;
  const configFile = engine?.configFile;
  useEffect(() => {
    if (configFile !== undefined) document.title = `tend: ${configFile}`;
  }, [configFile]);

  const act = useCallback((spec: ActionSpec) => perform(spec, setAnswer), []);
  const groups = useMemo(() => (status === null ? [] : groupsOf(status.value)), [status]);
  // Events and logs only need the names: the same vnode while they stay the same, so preact skips them.
  // Service names never hold a space (the config allows [A-Za-z0-9_-]).
  const namesKey = groups.map((g) => g.name).join(' ');
  const names = useMemo(() => (namesKey === '' ? [] : namesKey.split(' ')), [namesKey]);
  const events = useMemo(() => html`<${Events} services=${names} live=${live} />`, [names, live]);
  const logs = useMemo(() => html`<${Logs} services=${names} live=${live} />`, [names, live]);
  const graphKey = graphSignature(groups);
  // Drawn again when what it shows changed (graphKey), not for every status line.
  const graph = useMemo(() => (hasDependencies(groups) ? html`<${Graph} groups=${groups} />` : null), [graphKey]);

  return html`${ended ? html`<div id="session-ended" role="alert">This dashboard's session has ended. Run <code>tend dashboard</code> for a new link.</div>` : null}
    <div class="page" inert=${ended}>
      <header class="top">
        <div class="brand">
          <h1>tend</h1>
          <span id="config-file" class="path">${configFile ?? ''}</span>
        </div>
        <p class="engine">
          <span>pid <span id="engine-pid" class="num">${engine?.pid ?? '—'}</span></span>
          <span>version <span id="engine-version">${engine?.version ?? '—'}</span></span>
          <span id="connection" data-state=${ended ? 'ended' : connection}>${ended ? 'session ended' : connectionText[connection]}</span>
        </p>
        <div class="header-actions"><${Reload} configFile=${configFile ?? 'the config'} show=${setAnswer} /></div>
      </header>
      <${AnswerRegion} answer=${answer} />
      <main>
        <section id="services" aria-labelledby="services-heading">
          <h2 id="services-heading">Services</h2>
          ${
            status === null
              ? html`<p class="empty">Connecting to tend…</p>`
              : groups.length === 0
                ? html`<p class="empty">No services in ${configFile}.</p>`
                : html`<${UnitsTable} groups=${groups} receivedAt=${status.receivedAt} usage=${usage} act=${act} />`
          }
        </section>
        ${
          graph === null
            ? null
            : html`<section id="dependencies" aria-labelledby="graph-heading">
                <h2 id="graph-heading">Dependencies</h2>
                ${graph}
              </section>`
        }
        ${events} ${logs}
      </main>
    </div>`;
}

const root = document.getElementById('app');
if (root !== null) render(html`<${App} />`, root);
