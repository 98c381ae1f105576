// The dependency graph (#graph): services in layers from left to right — a service's layer is one
// more than its deepest dependency's, so what starts first is on the left — coloured by their
// worst instance, with an edge from each dependent to each dependency, styled by its condition.
// Laid out by hand as SVG: a few hundred nodes at most, recomputed per status line.
import type { ServiceInfo, UnitInfo } from '../api/protocol.js';
import type { Group } from './units.js';
import { html } from './html.js';
import { phaseText, toneOf, worstTone } from './tone.js';

const NODE_H = 40;
const GAP_X = 72;
const GAP_Y = 14;
const PAD = 10;
/** Roughly the width of a character at the graph's 12px type; node widths follow the longest text. */
const CHAR_W = 7.2;

type Hold = NonNullable<UnitInfo['waitingOn']>;

/** Edge styles, by condition and by hold (style.css draws them alike in the graph and here). */
const LEGEND = ['started', 'ready', 'completed', 'waiting', 'blocked'] as const;

export function hasDependencies(groups: readonly Group[]): boolean {
  return groups.some((g) => (g.info?.dependsOn.length ?? 0) > 0);
}

/** All the graph shows, as one string: while it stays the same, the graph need not be drawn again (CPU and uptimes change every line). */
export function graphSignature(groups: readonly Group[]): string {
  return JSON.stringify(
    groups.map((g) => [g.name, g.info?.dependsOn ?? [], g.units.map((u) => [u.label, phaseText(u), toneOf(u), u.waitingOn])]),
  );
}

/** Layer of each service; a cycle (the config refuses them) is cut rather than followed forever. */
function layersOf(services: ReadonlyMap<string, ServiceInfo>): Map<string, number> {
  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (name: string): number => {
    const known = layers.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0;
    visiting.add(name);
    let layer = 0;
    for (const dep of services.get(name)?.dependsOn ?? []) if (services.has(dep.service)) layer = Math.max(layer, visit(dep.service) + 1);
    visiting.delete(name);
    layers.set(name, layer);
    return layer;
  };
  for (const name of services.keys()) visit(name);
  return layers;
}

/** The service a hold's reason names: reasons start with the dependency unit's label, "db: fatal" or "db.1: exited (…)". */
function namedIn(reason: string): string {
  return reason.slice(0, reason.indexOf(':')).replace(/\.\d+$/, '');
}

/** The hold a dependent's units are under because of `dependency` (blocked first); one naming no known dependency counts for all. */
function holdOn(units: readonly UnitInfo[], dependency: string, dependencies: readonly string[]): Hold | null {
  let found: Hold | null = null;
  for (const unit of units) {
    const hold = unit.waitingOn;
    if (hold === null) continue;
    const named = namedIn(hold.reason);
    if (named !== dependency && dependencies.includes(named)) continue;
    if (hold.state === 'blocked') return hold;
    found = hold;
  }
  return found;
}

function summary(units: readonly UnitInfo[]): string {
  const [only] = units;
  if (units.length === 0) return 'no instances';
  if (units.length === 1 && only !== undefined) return only.waitingOn?.state ?? only.phase;
  return `${units.filter((u) => u.phase === 'running').length}/${units.length} running`;
}

interface Node {
  readonly group: Group;
  readonly x: number;
  readonly y: number;
}

export function Graph({ groups }: { readonly groups: readonly Group[] }) {
  const services = new Map<string, ServiceInfo>();
  for (const g of groups) if (g.info !== null) services.set(g.name, g.info);
  const byName = new Map(groups.map((g) => [g.name, g]));
  const layers = layersOf(services);
  const columns: Group[][] = [];
  for (const [name, layer] of layers) {
    const group = byName.get(name);
    if (group !== undefined) (columns[layer] ??= []).push(group);
  }
  // Each column ordered by where its dependencies sit (their mean row): fewer crossings than the file's order.
  const row = new Map<string, number>();
  for (const [layer, column] of columns.entries()) {
    if (layer > 0) {
      const mean = (g: Group) => {
        const rows = (g.info?.dependsOn ?? []).map((d) => row.get(d.service)).filter((r) => r !== undefined);
        return rows.length === 0 ? 0 : rows.reduce((a, b) => a + b, 0) / rows.length;
      };
      column.sort((a, b) => mean(a) - mean(b));
    }
    for (const [i, g] of column.entries()) row.set(g.name, i);
  }

  const longest = Math.max(...groups.map((g) => Math.max(g.name.length, summary(g.units).length)));
  const nodeW = Math.min(240, Math.max(96, Math.ceil(longest * CHAR_W) + 24));
  const tallest = Math.max(...columns.map((c) => c.length));
  const nodes = new Map<string, Node>();
  for (const [layer, column] of columns.entries()) {
    const offset = ((tallest - column.length) * (NODE_H + GAP_Y)) / 2;
    for (const [i, group] of column.entries()) {
      nodes.set(group.name, { group, x: PAD + layer * (nodeW + GAP_X), y: PAD + offset + i * (NODE_H + GAP_Y) });
    }
  }
  const width = PAD * 2 + columns.length * nodeW + (columns.length - 1) * GAP_X;
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;

  const edges = [];
  const sentences = [];
  for (const node of nodes.values()) {
    const dependsOn = node.group.info?.dependsOn ?? [];
    const names = dependsOn.map((d) => d.service);
    for (const dep of dependsOn) {
      const target = nodes.get(dep.service);
      if (target === undefined) continue;
      const hold = holdOn(node.group.units, dep.service, names);
      const x1 = node.x;
      const y1 = node.y + NODE_H / 2;
      const x2 = target.x + nodeW;
      const y2 = target.y + NODE_H / 2;
      const bend = GAP_X / 2;
      const d = `M${x1} ${y1}C${x1 - bend} ${y1} ${x2 + bend} ${y2} ${x2} ${y2}`;
      const said = `${node.group.name} needs ${dep.service} ${dep.condition}`;
      const title = hold === null ? said : `${said}: ${hold.state} (${hold.reason})`;
      const cls = `edge cond-${dep.condition}${hold === null ? '' : ` ${hold.state}`}`;
      edges.push(html`<path key=${`${node.group.name}->${dep.service}`} data-edge=${`${node.group.name}->${dep.service}`} data-condition=${dep.condition}
        class=${cls} d=${d} marker-end=${hold?.state === 'blocked' ? 'url(#arrow-blocked)' : 'url(#arrow)'}><title>${title}</title></path>`);
      sentences.push(html`<li>${title}</li>`);
    }
  }

  return html`<div class="graph-scroll">
      <svg id="graph" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-labelledby="graph-heading">
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path class="arrow" d="M0 0L8 4L0 8z" /></marker>
          <marker id="arrow-blocked" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path class="arrow blocked" d="M0 0L8 4L0 8z" /></marker>
        </defs>
        ${edges}
        ${[...nodes.values()].map((node) => html`<${GraphNode} key=${node.group.name} node=${node} width=${nodeW} />`)}
      </svg>
    </div>
    <ul class="sr-only">${sentences}</ul>
    <p class="legend" aria-hidden="true">
      ${LEGEND.map((key) => html`<span class="legend-item"><span class=${`key key-${key}`}></span>${key}</span>`)}
    </p>`;
}

function GraphNode({ node, width }: { readonly node: Node; readonly width: number }) {
  const { group } = node;
  const tone = worstTone(group.units);
  const states = group.units.map((u) => `${u.label}: ${phaseText(u)}`).join('\n');
  return html`<g data-service=${group.name} data-tone=${tone} class=${`node tone-${tone}`} transform=${`translate(${node.x} ${node.y})`}>
    <title>${states === '' ? `${group.name}: no instances` : states}</title>
    <rect width=${width} height=${NODE_H} rx="6" />
    <text x="10" y="17" class="node-name">${group.name}</text>
    <text x="10" y="32" class="node-state">${summary(group.units)}</text>
  </g>`;
}
