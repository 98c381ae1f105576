// Small formatting the CLI has no twin for (it prints dates its own way): local wall-clock time.

const pad = (n: number) => String(n).padStart(2, '0');

/** "14:03:27" in the browser's time zone; a time that does not parse is shown as it came. */
export function clock(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/** CPU as `ps` shows it: one decimal, % of one core. */
export function percent(value: number): string {
  return `${value.toFixed(1)}%`;
}
