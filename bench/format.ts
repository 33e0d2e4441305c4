// How the bench writes its figures: durations, and a figure's verdict against its target.

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;
export const mark = (ok: boolean) => (ok ? "meets" : "MISSES");
