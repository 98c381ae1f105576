// Naming of service instances. The unit id is always "name.index" ("web.0"): what the engine,
// the host, the keeper and the PID journal key a unit by, stable when its service is scaled.
// The label is what people read: the bare name while the service has one instance ("web"),
// else the id ("web.1").
import { didYouMean } from '../config/phrasing.js';
import { TendError } from '../errors.js';

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

/** "web.0" → web, 0 (service names may hold dots; the index follows the last one). */
export function parseUnitId(id: string): UnitRef {
  const at = id.lastIndexOf('.');
  return unitRef(id.slice(0, at), Number(id.slice(at + 1)));
}

/** What the terminal and `ps` show: the bare name while the service has one instance. */
export function labelOf(ref: UnitRef, instances: number): string {
  return instances === 1 && ref.instance === 0 ? ref.service : `${ref.service}.${ref.instance}`;
}

/** "there is no service named …", with the nearest name as a hint (a typo) or else the names there are. */
export function unknownService(name: string, services: readonly string[]): TendError {
  const near = didYouMean(name, services);
  const listed = services.length <= 12 ? services.join(', ') : `${services.slice(0, 12).join(', ')}, … (${services.length} in all)`;
  const hint =
    near === undefined ? (services.length === 0 ? 'the config has no services' : `its services: ${listed}`) : `did you mean "${near}"?`;
  return new TendError('TEND_UNKNOWN_SERVICE', name, { hint });
}
