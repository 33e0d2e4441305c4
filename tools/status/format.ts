// Number and time formatting for the dashboard. Formatting only: no value is judged here.

/** "2025-11-24 23:40:05 UTC": UTC so that frames read the same on every machine and in snapshots. */
export function formatClock(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** "3d 04h 05m", "1h 02m 03s", "4m 05s", "42s". */
export function formatUptime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const secs = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (days > 0) return `${days}d ${two(hours)}h ${two(minutes)}m`;
  if (hours > 0) return `${hours}h ${two(minutes)}m ${two(secs)}s`;
  if (minutes > 0) return `${minutes}m ${two(secs)}s`;
  return `${secs}s`;
}

/** Whole numbers as they are, others with two decimals: 10, 3.87, 46.94. */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** A value with its unit: "77.89 GB", "46.94%", "3.87 load"; "n/a" when OPA reported none. */
export function withUnit(value: number | null | undefined, unit: string): string {
  if (typeof value !== "number") return "n/a";
  const number = formatNumber(value);
  if (unit === "") return number;
  return unit === "%" ? `${number}%` : `${number} ${unit}`;
}
