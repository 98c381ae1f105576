// The services table (#units): a row group per service (its signal and scale controls) with a
// row per instance. Rendered on every status line (200 services: ~400 rows), so rows are keyed
// by unit id and skip rendering unless what they show changed; only the uptime cells tick each
// second. Every cell has a fixed size (style.css): rows never jump.
import { useEffect, useState } from 'preact/hooks';
import type { ServiceInfo, StatusResponse, UnitInfo } from '../api/protocol.js';
import { formatBytes, formatDuration } from '../cli/render/notice.js';
import { ActionButton, type ActionSpec } from './actions.js';
import { percent } from './format.js';
import { html, pure } from './html.js';
import { Spark } from './spark.js';
import { phaseText, readinessText, type Tone, toneOf, worstTone } from './tone.js';
import type { UnitSparks, UsageHistory } from './usage.js';

const SIGNALS = ['HUP', 'INT', 'TERM', 'QUIT', 'USR1', 'USR2', 'KILL'] as const;

type Act = (spec: ActionSpec) => Promise<void>;

export interface Group {
  readonly name: string;
  readonly info: ServiceInfo | null;
  readonly units: readonly UnitInfo[];
}

/** Units by service, in the config's order; an engine before 0.4 sends no services, so they come from the units then. */
export function groupsOf(status: StatusResponse): Group[] {
  const groups = new Map<string, { name: string; info: ServiceInfo | null; units: UnitInfo[] }>();
  for (const info of status.services ?? []) groups.set(info.name, { name: info.name, info, units: [] });
  for (const unit of status.units) {
    let group = groups.get(unit.service);
    if (group === undefined) groups.set(unit.service, (group = { name: unit.service, info: null, units: [] }));
    group.units.push(unit);
  }
  return [...groups.values()];
}

const ticking = new Set<() => void>();
let ticker = 0;

/** Re-renders its caller every second, all callers from one timer: uptimes count on between status lines. */
function useSecond(): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const tick = () => setTick((n) => n + 1);
    ticking.add(tick);
    if (ticking.size === 1)
      ticker = window.setInterval(() => {
        for (const f of ticking) f();
      }, 1000);
    return () => {
      ticking.delete(tick);
      if (ticking.size === 0) clearInterval(ticker);
    };
  }, []);
}

/** Only this cell re-renders each second, not its row. */
function Uptime({ since }: { readonly since: number }) {
  useSecond();
  return html`<div class="live">${formatDuration(Math.max(0, Date.now() - since))}</div>`;
}

interface TableProps {
  readonly groups: readonly Group[];
  /** When the status arrived: uptimes are as of then. */
  readonly receivedAt: number;
  readonly usage: UsageHistory;
  readonly act: Act;
}

export function UnitsTable({ groups, receivedAt, usage, act }: TableProps) {
  return html`<div class="table-scroll">
    <table id="units">
      <colgroup>
        <col class="c-label" /><col class="c-phase" /><col class="c-ready" /><col class="c-pid" /><col class="c-uptime" />
        <col class="c-restarts" /><col class="c-cpu" /><col class="c-mem" /><col class="c-actions" />
      </colgroup>
      <thead>
        <tr>
          <th scope="col">Name</th><th scope="col">State</th><th scope="col">Ready</th><th scope="col" class="num">PID</th>
          <th scope="col" class="num">Uptime</th><th scope="col" class="num">Restarts</th><th scope="col">CPU</th>
          <th scope="col">Memory</th><th scope="col">Actions</th>
        </tr>
      </thead>
      ${groups.map((group) => html`<${ServiceRows} key=${group.name} group=${group} receivedAt=${receivedAt} usage=${usage} act=${act} />`)}
    </table>
  </div>`;
}

/** A service's rows. Plain: it only turns the status into the rows' props, which skip rendering when those are unchanged. */
function ServiceRows({
  group,
  receivedAt,
  usage,
  act,
}: {
  readonly group: Group;
  readonly receivedAt: number;
  readonly usage: UsageHistory;
  readonly act: Act;
}) {
  const { name, units } = group;
  const running = units.filter((u) => u.phase === 'running').length;
  const count = units.length === 1 ? '1 instance' : `${units.length} instances, ${running} running`;
  const schedule = group.info?.schedule ? `, schedule ${group.info.schedule}` : '';
  return html`<tbody data-service=${name}>
    <${ServiceHead} name=${name} summary=${count + schedule} tone=${worstTone(units)} instances=${group.info?.instances ?? units.length} multi=${units.length > 1} act=${act} />
    ${units.map((unit) => {
      const sparks = usage.sparks(unit.unit);
      return html`<${UnitRow} key=${unit.unit} unit=${unit.unit} label=${unit.label} service=${unit.service} phase=${unit.phase}
        tone=${toneOf(unit)} state=${phaseText(unit)} ready=${readinessText(unit)} readyState=${unit.readiness?.state ?? 'none'}
        readyTitle=${unit.readiness?.output || readinessText(unit)} pid=${unit.pid ?? '—'}
        upSince=${unit.uptimeMs === null ? null : Math.round((receivedAt - unit.uptimeMs) / 1000) * 1000} restarts=${unit.restarts}
        cpu=${unit.cpuPercent === null ? '—' : percent(unit.cpuPercent)} mem=${unit.rssBytes === null ? '—' : formatBytes(unit.rssBytes)}
        sparks=${sparks} act=${act} />`;
    })}
  </tbody>`;
}

interface HeadProps {
  readonly name: string;
  readonly summary: string;
  readonly tone: Tone;
  readonly instances: number;
  /** More than one instance: the row also acts on them all. */
  readonly multi: boolean;
  readonly act: Act;
}

const ServiceHead = pure(({ name, summary, tone, instances, multi, act }: HeadProps) => {
  return html`<tr class=${`service-row tone-${tone}`} data-service=${name} data-tone=${tone}>
    <th scope="rowgroup" colspan="3"><span class="service-name">${name}</span> <span class="muted">${summary}</span></th>
    <td colspan="6" class="service-actions">
      ${multi ? html`<${UnitActions} target=${name} act=${act} />` : null}
      <${SignalControl} service=${name} act=${act} />
      <${ScaleControl} service=${name} instances=${instances} act=${act} />
    </td>
  </tr>`;
});

interface RowProps {
  readonly unit: string;
  readonly label: string;
  readonly service: string;
  readonly phase: string;
  readonly tone: Tone;
  /** The state cell's words (phaseText). */
  readonly state: string;
  readonly ready: string;
  readonly readyState: string;
  readonly readyTitle: string;
  readonly pid: number | string;
  /** When the run began, by this browser's clock, to the second (so it stays the same between status lines); null: not running. */
  readonly upSince: number | null;
  readonly restarts: number;
  readonly cpu: string;
  readonly mem: string;
  readonly sparks: UnitSparks | null;
  readonly act: Act;
}

const UnitRow = pure((p: RowProps) => {
  return html`<tr class=${`unit tone-${p.tone}`} data-unit=${p.unit} data-service=${p.service} data-phase=${p.phase} data-tone=${p.tone}>
    <td data-field="label" title=${p.label}>${p.label}</td>
    <td data-field="phase" title=${p.state}><span class="dot" aria-hidden="true"></span>${p.state}</td>
    <td data-field="ready" class=${`ready-${p.readyState}`} title=${p.readyTitle}>${p.ready}</td>
    <td data-field="pid" class="num">${p.pid}</td>
    <td data-field="uptime" class="num">${p.upSince === null ? html`<div class="live">—</div>` : html`<${Uptime} since=${p.upSince} />`}</td>
    <td data-field="restarts" class="num">${p.restarts}</td>
    <td data-field="cpu"><div class="live"><span class="value">${p.cpu}</span>${p.sparks ? html`<${Spark} d=${p.sparks.cpu} label=${p.sparks.cpuLabel} />` : null}</div></td>
    <td data-field="mem"><div class="live"><span class="value">${p.mem}</span>${p.sparks ? html`<${Spark} d=${p.sparks.mem} label=${p.sparks.memLabel} />` : null}</div></td>
    <td class="row-actions"><${UnitActions} target=${p.label} act=${p.act} /></td>
  </tr>`;
});

/** Start, stop, restart of a target as the CLI names it: "web" (every instance) or "web.1". */
function UnitActions({ target, act }: { readonly target: string; readonly act: Act }) {
  const button = (path: 'start' | 'stop' | 'restart', text: string) =>
    html`<${ActionButton} action=${path} label=${`${text} ${target}`} text=${text} run=${() => act({ path, body: { services: [target] }, target })} />`;
  return html`<span class="actions">${button('start', 'Start')}${button('stop', 'Stop')}${button('restart', 'Restart')}</span>`;
}

function SignalControl({ service, act }: { readonly service: string; readonly act: Act }) {
  const [signal, setSignal] = useState<string>('HUP');
  const run = () => act({ path: 'signal', body: { services: [service], signal }, target: `${service} (${signal})` });
  return html`<span class="control">
    <label>Signal<span class="sr-only"> for ${service}</span> <select data-field="signal" value=${signal} onChange=${(e: Event) => setSignal((e.currentTarget as HTMLSelectElement).value)}>
      ${SIGNALS.map((s) => html`<option value=${s}>${s}</option>`)}
    </select></label>
    <${ActionButton} action="signal" label=${`Send the signal to ${service}`} text="Send" run=${run} />
  </span>`;
}

function ScaleControl({ service, instances, act }: { readonly service: string; readonly instances: number; readonly act: Act }) {
  const [value, setValue] = useState(String(instances));
  // A scale from elsewhere (the CLI, a reload) shows here too.
  useEffect(() => setValue(String(instances)), [instances]);
  const count = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(count) && count >= 0;
  const run = () => act({ path: 'scale', body: { service, instances: count }, target: `${service} to ${count}` });
  return html`<span class="control">
    <label>Instances<span class="sr-only"> of ${service}</span> <input type="number" class="scale-input" data-field="instances" min="0" step="1" inputmode="numeric" value=${value}
      onInput=${(e: Event) => setValue((e.currentTarget as HTMLInputElement).value)} /></label>
    <${ActionButton} action="scale" label=${`Scale ${service}`} text="Apply" run=${run} disabled=${!valid} />
  </span>`;
}
