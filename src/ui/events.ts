// The events (#events): what happened to the units and to tend itself, newest first, each as the
// CLI says it (describeNotice). The stream sends the last 200 then each new one; the page keeps
// 500 and filters by service on its side, so a filter change needs no new stream.
import { useEffect, useState } from 'preact/hooks';
import type { EventRecord } from '../api/protocol.js';
import { describeNotice } from '../cli/render/notice.js';
import { clock } from './format.js';
import { html } from './html.js';
import type { Live } from './live.js';

const KEEP = 500;
/** The filter values that are not a service name (names are [A-Za-z0-9_-]). */
const ALL = '*';
const TEND = ':tend';

interface Item {
  readonly id: number;
  readonly record: EventRecord;
  readonly text: string;
  readonly problem: boolean;
}

/** Failures and what stands in a service's way; a clean exit (a job done) is not one. */
function isProblem(record: EventRecord): boolean {
  switch (record.kind) {
    case 'exited':
    case 'completed':
      return record.result !== 'success';
    case 'action':
      return !record.ok;
    case 'spawn-failed':
    case 'fatal':
    case 'probe-failed':
    case 'memory-exceeded':
    case 'blocked':
    case 'notify-failed':
    case 'reload-rejected':
    case 'not-ready':
    case 'log-lost':
      return true;
    default:
      return false;
  }
}

let nextId = 0;

export function Events({ services, live }: { readonly services: readonly string[]; readonly live: Live }) {
  const [items, setItems] = useState<readonly Item[]>([]);
  const [filter, setFilter] = useState(ALL);
  useEffect(() => {
    // Records come in bursts (the 200 of the snapshot): add them once per frame.
    let pending: Item[] = [];
    let frame = 0;
    let reset = false;
    const flush = () => {
      frame = 0;
      const fresh = pending.reverse();
      pending = [];
      const wasReset = reset;
      reset = false;
      setItems((old) => [...fresh, ...(wasReset ? [] : old)].slice(0, KEEP));
    };
    const stop = live.subscribe('event', {
      onOpen: () => {
        pending = [];
        reset = true;
        frame ||= requestAnimationFrame(flush);
      },
      onItem: (record) => {
        pending.push({ id: nextId++, record, text: describeNotice(record), problem: isProblem(record) });
        if (pending.length > KEEP) pending.splice(0, pending.length - KEEP);
        frame ||= requestAnimationFrame(flush);
      },
    });
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [live]);

  const shown =
    filter === ALL ? items : items.filter((item) => (filter === TEND ? item.record.service === '' : item.record.service === filter));
  // A service chosen here that a reload since removed stays a choice until the filter changes.
  const choices = services.includes(filter) || filter === ALL || filter === TEND ? services : [...services, filter];
  return html`<section id="events" aria-labelledby="events-heading">
    <div class="section-head">
      <h2 id="events-heading">Events</h2>
      <label>Show <select id="event-service" value=${filter} onChange=${(e: Event) => setFilter((e.currentTarget as HTMLSelectElement).value)}>
        <option value=${ALL}>all</option>
        <option value=${TEND}>tend itself</option>
        ${choices.map((name) => html`<option value=${name}>${name}</option>`)}
      </select></label>
    </div>
    <div class="scroll-box events-box" tabindex="0" aria-label="Events, newest first">
      ${shown.length === 0 ? html`<p class="empty">No events yet.</p>` : null}
      <ol id="event-list">
        ${shown.map(
          ({
            id,
            record,
            text,
            problem,
          }) => html`<li key=${id} class=${problem ? 'event problem' : 'event'} data-kind=${record.kind} data-service=${record.service}>
            <time datetime=${record.time} title=${record.time}>${clock(record.time)}</time>
            ${problem ? html`<span class="tag">problem</span>` : null}
            <span class="event-text">${text}</span>
          </li>`,
        )}
      </ol>
    </div>
  </section>`;
}
