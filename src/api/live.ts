// GET /v1/live: the dashboard's one stream. Browsers open at most six connections to a host over
// HTTP/1.1, so a page that followed status, usage, events and logs on four streams would leave a
// second tab — and its buttons — waiting. This merges the four feeds the Control already serves
// into one, each item tagged by what it is. Only the logs can wait for a slow reader (they stay in
// their files); pausing the merged feed pauses them, and the small rest goes on.
import type { Control, Feed, LiveItem, LiveQuery } from './protocol.js';

export async function liveFeed(control: Control, query: LiveQuery): Promise<Feed<LiveItem>> {
  const { follow } = query;
  const [status, usage, events, logs] = await Promise.all([
    control.statusFeed({ follow }),
    control.usage({ follow }),
    control.events({ lines: query.events, follow }),
    query.logs === 0 ? null : control.logs({ services: query.services, lines: query.logs, follow }),
  ]);
  const snapshot: LiveItem[] = [
    ...status.snapshot.map((item) => ({ status: item })),
    ...usage.snapshot.map((item) => ({ usage: item })),
    ...events.snapshot.map((item) => ({ event: item })),
    ...(logs?.snapshot ?? []).map((item) => ({ log: item })),
  ];
  if (!follow) return { snapshot };
  return {
    snapshot,
    follow(push, end) {
      const subscriptions = [
        status.follow?.((item) => push({ status: item }), end),
        usage.follow?.((item) => push({ usage: item }), end),
        events.follow?.((item) => push({ event: item }), end),
      ];
      const lines = logs?.follow?.((item) => push({ log: item }), end);
      return {
        stop() {
          for (const subscription of [...subscriptions, lines]) subscription?.stop();
        },
        pause: () => lines?.pause?.(),
        resume: () => lines?.resume?.(),
      };
    },
  };
}
