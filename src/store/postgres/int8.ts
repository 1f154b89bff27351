/** int8 columns arrive from node-postgres as strings (they may exceed 2^53); kmipd's are times and counters that do not. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
