// Naming of service instances. A service with one instance is shown by its name ("web"); with
// several, each is "web.0", "web.1"... The unit id is always "name.index" inside the engine.
import type { ServiceConfig } from '../config/schema.js';

export interface UnitRef {
  readonly id: string;
  readonly service: ServiceConfig;
  readonly instance: number;
  /** What the terminal and `ps` show. */
  readonly label: string;
}

export function unitsOf(service: ServiceConfig): UnitRef[] {
  return Array.from({ length: service.instances }, (_, instance) => ({
    id: `${service.name}.${instance}`,
    service,
    instance,
    label: service.instances === 1 ? service.name : `${service.name}.${instance}`,
  }));
}
