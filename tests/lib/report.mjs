// Small helpers for the demo's and the benchmarks' printed reports.
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const ms = (x) => `${x.toFixed(1)} ms`;
export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
