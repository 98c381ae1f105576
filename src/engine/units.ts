// Naming of service instances. A service with one instance is shown by its name ("web"); with
// several, each is "web.0", "web.1"... The unit id is always "name.index" inside the engine,
// so a unit keeps its id when its service is scaled.

export interface UnitRef {
  readonly id: string;
  readonly service: string;
  readonly instance: number;
}

export function unitRef(service: string, instance: number): UnitRef {
  return { id: `${service}.${instance}`, service, instance };
}

export function unitRefs(service: string, instances: number): UnitRef[] {
  return Array.from({ length: instances }, (_, instance) => unitRef(service, instance));
}

/** What the terminal and `ps` show: the bare name while the service has one instance. */
export function labelOf(ref: UnitRef, instances: number): string {
  return instances === 1 && ref.instance === 0 ? ref.service : `${ref.service}.${ref.instance}`;
}
