// What the host is asked to run for a unit: the service's command, working directory and
// account; the environment it starts with — tend's own (minus its control variables), the
// account's identity when it runs as another user, the service's `env`, and who it is; and the
// log file its output goes to, with the rotation settings in force at this spawn.
import type { ServiceConfig } from '../config/schema.js';
import type { SpawnSpec } from '../host/host.js';
import type { UnitRef } from './unit-ids.js';

/**
 * tend's own control variables, read by tend and never passed on to a service (a service that
 * prints its environment must not publish the API token). A service's `env` may still set them.
 */
const TEND_CONTROL_VARIABLES: ReadonlySet<string> = new Set([
  'TEND_API_TOKEN',
  'TEND_FILE',
  'TEND_RUNTIME_DIR',
  'TEND_SYSTEMD_DIR',
  'TEND_MEMORY_CHECK_MS',
  'TEND_TEST_FAULT',
  'TEND_TEST_ADVERTISE_PROTOCOLS',
]);

export function spawnSpecs(baseEnv: Readonly<Record<string, string | undefined>>): (service: ServiceConfig, ref: UnitRef) => SpawnSpec {
  const inherited: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined && !TEND_CONTROL_VARIABLES.has(key)) inherited[key] = value;
  const environmentOf = (service: ServiceConfig, ref: UnitRef): Record<string, string> => ({
    ...inherited,
    // As su and systemd's User= do: the account's home and name, unless the config sets them.
    ...(service.runAs === null ? {} : { HOME: service.runAs.home, USER: service.runAs.name, LOGNAME: service.runAs.name }),
    ...service.env,
    ...Object.fromEntries(service.incrementEnv.map((name) => [name, String(Number(service.env[name]) + ref.instance)])),
    TEND_SERVICE: service.name,
    TEND_INSTANCE: String(ref.instance),
  });
  return (service, ref) => {
    const { file, max_size: maxSize, keep, compress = false, mode = 0o600, gid } = service.logs;
    const log = { file, maxSize, keep, compress, instance: ref.instance, mode, ...(gid === undefined ? {} : { gid }) };
    const runAs =
      service.runAs === null ? {} : { runAs: { uid: service.runAs.uid, gid: service.runAs.gid, initGroups: service.runAs.known } };
    const notify = service.readiness?.kind === 'fd' ? { notifyFd: service.readiness.fd } : {};
    return { unit: ref.id, argv: service.argv, cwd: service.cwd, env: environmentOf(service, ref), log, ...runAs, ...notify };
  };
}
