// The logs (#logs): the services' output, oldest first, kept to the bottom while the reader is
// there. Built for floods (10k lines/s): records are buffered and shown at most once per animation
// frame (less often while showing them is slow), at most BURST of them per showing (a marker
// says how many were skipped), only the last 2000 kept; the lines' DOM is managed here by hand,
// in chunks that layout skips while out of view — a flush appends the new lines and removes the
// oldest, where a virtual-DOM diff of 2000 rows would cost a frame per frame. Text goes in through textContent
// only: a line is never HTML.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { LogRecord } from '../api/protocol.js';
import { clock } from './format.js';
import { html } from './html.js';
import type { Live } from './live.js';

const KEEP = 2000;
/** The most lines one flush shows: more arrive only in a flood, faster than anyone reads. */
const BURST = 400;
/** Lines per chunk of the box; a full chunk is skipped by layout and paint while out of view (style.css). */
const CHUNK = 100;
/** Within this many pixels of the bottom counts as at the bottom (zoom rounds scroll positions). */
const BOTTOM_SLACK = 8;

interface Entry {
  readonly record: LogRecord;
  /** Lines skipped just before this one (a flood). */
  readonly skipped: number;
  /** The label and text lowercased, made when a filter first needs it. */
  lower?: string;
  /** Its element once made; in the box while the filter lets it through. */
  node?: HTMLElement;
}

function span(className: string, text: string): HTMLElement {
  const el = document.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}

function nodeOf(entry: Entry): HTMLElement {
  if (entry.node !== undefined) return entry.node;
  const { record } = entry;
  const line = document.createElement('div');
  line.className = 'log-line';
  line.dataset.stream = record.stream;
  line.dataset.unit = record.unit;
  if (entry.skipped > 0) {
    const gap = document.createElement('div');
    gap.className = 'log-gap';
    gap.textContent = `${entry.skipped} lines skipped: they came faster than the page can show (tend logs has them all)`;
    line.append(gap);
  }
  const time = document.createElement('time');
  time.dateTime = record.time;
  time.textContent = clock(record.time);
  line.append(time, span('log-label', record.label));
  if (record.stream === 'err') line.append(span('tag', 'err'));
  line.append(span('log-text', record.line));
  entry.node = line;
  return line;
}

function matches(entry: Entry, needle: string): boolean {
  if (needle === '') return true;
  entry.lower ??= `${entry.record.label} ${entry.record.line}`.toLowerCase();
  return entry.lower.includes(needle);
}

function newChunk(): HTMLElement {
  const chunk = document.createElement('div');
  chunk.className = 'log-chunk';
  return chunk;
}

/** The kept lines and which of them the box shows; changes the DOM of `box` only. */
class LogBuffer {
  private entries: Entry[] = [];
  private needle = '';
  shown = 0;

  constructor(private readonly box: HTMLElement) {}

  get size(): number {
    return this.entries.length;
  }

  /** Adds records (oldest first) after `skipped` lost ones, dropping the oldest past KEEP; returns how many new lines are shown. */
  add(records: readonly LogRecord[], skipped: number): number {
    const overflow = this.entries.length + records.length - KEEP;
    if (overflow > 0) {
      for (const gone of this.entries.splice(0, overflow)) {
        // A line the filter hides may sit in a chunk of an earlier filter, out of the box.
        const chunk = gone.node?.isConnected ? gone.node.parentElement : null;
        if (chunk === null || chunk === undefined) continue;
        gone.node?.remove();
        this.shown -= 1;
        if (chunk.firstChild === null) chunk.remove();
      }
    }
    let added = 0;
    let chunk = this.box.lastElementChild;
    for (const [i, record] of records.entries()) {
      const entry: Entry = { record, skipped: i === 0 ? skipped : 0 };
      this.entries.push(entry);
      if (!matches(entry, this.needle)) continue;
      if (chunk === null || chunk.childElementCount >= CHUNK) chunk = this.box.appendChild(newChunk());
      chunk.append(nodeOf(entry));
      if (chunk.childElementCount === CHUNK) chunk.classList.add('full');
      added += 1;
    }
    this.shown += added;
    return added;
  }

  filter(needle: string): void {
    this.needle = needle;
    const fragment = document.createDocumentFragment();
    let chunk: HTMLElement | null = null;
    this.shown = 0;
    for (const entry of this.entries) {
      if (!matches(entry, needle)) continue;
      if (chunk === null || chunk.childElementCount >= CHUNK) chunk = fragment.appendChild(newChunk());
      chunk.append(nodeOf(entry));
      if (chunk.childElementCount === CHUNK) chunk.classList.add('full');
      this.shown += 1;
    }
    this.box.replaceChildren(fragment);
  }

  clear(): void {
    this.entries = [];
    this.shown = 0;
    this.box.replaceChildren();
  }
}

export function Logs({ services, live }: { readonly services: readonly string[]; readonly live: Live }) {
  const [service, setService] = useState('');
  const [following, setFollowing] = useState(true);
  const [filter, setFilter] = useState('');
  const [counts, setCounts] = useState({ kept: 0, shown: 0 });
  const [unseen, setUnseen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const buffer = useRef<LogBuffer | null>(null);
  /** Whether the view follows the newest line: true until the reader scrolls up. */
  const stick = useRef(true);
  const needle = filter.trim().toLowerCase();

  /** After the lines changed: new counts, and keep to the bottom or tell of lines below. */
  const settle = useCallback((added: number) => {
    const el = box.current;
    const lines = buffer.current;
    if (el === null || lines === null) return;
    setCounts({ kept: lines.size, shown: lines.shown });
    if (stick.current) el.scrollTop = el.scrollHeight;
    else if (added > 0) setUnseen(true);
  }, []);

  // Paused (follow off), the stream is closed and the lines stay as they are.
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    if (!following) {
      live.setLogs(null);
      return;
    }
    const lines = (buffer.current ??= new LogBuffer(el));
    let pending: LogRecord[] = [];
    /** Lines dropped since the last flush: a flood. */
    let skipped = 0;
    let frame = 0;
    /** When the next flush may run: a flush that took long waits that long three times over. */
    let next = 0;
    const flush = (now: number) => {
      if (now < next) {
        frame = requestAnimationFrame(flush);
        return;
      }
      frame = 0;
      const started = performance.now();
      if (pending.length > BURST) skipped += pending.splice(0, pending.length - BURST).length;
      const added = lines.add(pending, skipped);
      pending = [];
      skipped = 0;
      settle(added);
      // In a flood a flush takes tens of milliseconds: at most a quarter of the main thread goes to it, so clicks and scrolling still work.
      next = started + (performance.now() - started) * 3;
    };
    live.setLogs(service);
    const stop = live.subscribe('log', {
      // A (re)connection sends its own last 200 lines: they replace what the last one sent.
      onOpen: () => {
        pending = [];
        skipped = 0;
        lines.clear();
        settle(0);
      },
      onItem: (record) => {
        pending.push(record);
        // A hidden tab gets no frames: hold no more than one flush shows.
        if (pending.length > BURST * 2) skipped += pending.splice(0, pending.length - BURST).length;
        frame ||= requestAnimationFrame(flush);
      },
    });
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [service, following, live, settle]);

  // Before the paint: the box never shows lines the filter no longer lets through.
  useLayoutEffect(() => {
    buffer.current?.filter(needle);
    settle(0);
  }, [needle, settle]);

  // Only the reader scrolling up lets go of the bottom, not lines coming and going above.
  const lastTop = useRef(0);
  const onScroll = () => {
    const el = box.current;
    if (el === null) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK) {
      stick.current = true;
      setUnseen(false);
    } else if (el.scrollTop < lastTop.current) stick.current = false;
    lastTop.current = el.scrollTop;
  };
  const toBottom = () => {
    stick.current = true;
    setUnseen(false);
    if (box.current !== null) box.current.scrollTop = box.current.scrollHeight;
  };
  // Choosing what to watch means watching it: from its last lines, following.
  const choose = (e: Event) => {
    setService((e.currentTarget as HTMLSelectElement).value);
    setFollowing(true);
    stick.current = true;
    setUnseen(false);
  };
  const choices = service === '' || services.includes(service) ? services : [...services, service];
  const empty = counts.kept === 0 ? 'No lines yet.' : counts.shown === 0 ? 'No kept line matches the filter.' : null;

  return html`<section id="logs" aria-labelledby="logs-heading">
    <div class="section-head">
      <h2 id="logs-heading">Logs</h2>
      <div class="toolbar">
        <label>Service <select id="log-service" value=${service} onChange=${choose}>
          <option value="">all</option>
          ${choices.map((name) => html`<option value=${name}>${name}</option>`)}
        </select></label>
        <label>Filter <input id="log-filter" type="search" value=${filter} placeholder="text in the line"
          onInput=${(e: Event) => setFilter((e.currentTarget as HTMLInputElement).value)} /></label>
        <label class="check"><input id="log-follow" type="checkbox" checked=${following}
          onChange=${(e: Event) => setFollowing((e.currentTarget as HTMLInputElement).checked)} /> Follow</label>
      </div>
    </div>
    <div class="log-wrap">
      <div id="log-lines" class="scroll-box log-box" ref=${box} onScroll=${onScroll} tabindex="0" role="region" aria-label="Log lines"></div>
      ${empty === null ? null : html`<p class="empty log-empty">${empty}</p>`}
      ${unseen ? html`<button type="button" id="log-new-lines" class="new-lines" onClick=${toBottom}>↓ new lines</button>` : null}
    </div>
    <p class="muted log-status">
      ${following ? 'following' : 'paused'}, ${counts.kept} lines kept (at most ${KEEP})${needle === '' ? '' : `, ${counts.shown} match`}
    </p>
  </section>`;
}
