// depends_on, checked across services: every name must be a service of the file, no service may
// depend on itself, and there must be no cycle (which would leave every service on it waiting
// for ever). Problems point at the depends_on entry; a cycle is printed whole, as systemd and
// compose do. Pure: no I/O.
import type { Problem } from './diagnostics.js';
import { didYouMean, type PathSegment } from './phrasing.js';
import type { Dependency, ServiceSpec } from './schema.js';

/** The file's depends_on as a list, in its order (a plain list of names means condition started). */
export function dependenciesOf(spec: ServiceSpec['depends_on']): Dependency[] {
  if (spec === undefined) return [];
  if (Array.isArray(spec)) return [...new Set(spec)].map((service) => ({ service, condition: 'started', restart: false }));
  return Object.entries(spec).map(([service, { condition, restart }]) => ({ service, condition, restart }));
}

/** Unknown names, self-dependencies and cycles, as problems with their paths. */
export function checkDependencies(
  services: ReadonlyMap<string, readonly Dependency[]>,
  pathOf: (name: string, dependency: string) => PathSegment[],
): Problem[] {
  const problems: Problem[] = [];
  const names = [...services.keys()];
  for (const [name, dependencies] of services) {
    for (const { service } of dependencies) {
      if (service === name) {
        problems.push({ path: pathOf(name, service), code: 'dependency-cycle', message: `${name} depends on itself` });
      } else if (!services.has(service)) {
        const near = didYouMean(service, names);
        problems.push({
          path: pathOf(name, service),
          code: 'unknown-dependency',
          message: `there is no service named ${JSON.stringify(service)}${near === undefined ? '' : ` (did you mean "${near}"?)`}`,
        });
      }
    }
  }
  const cycle = findCycle(services);
  if (cycle !== null) {
    const [first = '', second = ''] = cycle;
    problems.push({ path: pathOf(first, second), code: 'dependency-cycle', message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  return problems;
}

/** One cycle (first name repeated at the end), or null. Depth-first, in the file's order. */
function findCycle(services: ReadonlyMap<string, readonly Dependency[]>): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    const at = path.indexOf(name);
    if (at >= 0) return [...path.slice(at), name];
    if (done.has(name) || !services.has(name)) return null;
    path.push(name);
    for (const { service } of services.get(name) ?? []) {
      if (service === name) continue; // reported on its own
      const found = visit(service);
      if (found) return found;
    }
    path.pop();
    done.add(name);
    return null;
  };
  for (const name of services.keys()) {
    const found = visit(name);
    if (found) return found;
  }
  return null;
}
