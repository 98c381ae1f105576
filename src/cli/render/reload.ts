// What a reload did to each service (or, for --dry-run, would do), in words: `tend reload`
// prints one line per service, a foreground `tend up` one line on SIGHUP.
import type { ServiceChange } from '../../api/protocol.js';

/** One line per service: what the reload did (or, dry, would do) to it, and which keys changed. */
export function describeChange(change: ServiceChange, dry: boolean): string {
  const keys = change.keys.length > 0 ? ` (${change.keys.join(', ')})` : '';
  const done = { start: 'started', stop: 'stopped', restart: 'restarted', update: 'updated in place', keep: 'unchanged' } as const;
  const would = {
    start: 'would start',
    stop: 'would stop',
    restart: 'would restart',
    update: 'would update in place',
    keep: 'unchanged',
  } as const;
  const scale = change.scale === undefined ? '' : `${dry ? 'would scale' : 'scaled'} ${change.scale.from}→${change.scale.to}`;
  if (change.action === 'update' && scale !== '')
    return change.keys.length === 0 ? scale : `${scale}; ${(dry ? would : done).update}${keys}`;
  return `${(dry ? would : done)[change.action]}${change.action === 'restart' || change.action === 'update' ? keys : ''}`;
}
