/**
 * The one error type of the XML and JSON message encodings (KMIP Additional Message Encodings
 * v1.0 §4, §6): where the input went wrong (an element path such as
 * `/RequestMessage/BatchItem[2]/Operation`, or a line and column for XML syntax) and why.
 */

export type EncodingFormat = 'xml' | 'json';

export class EncodingError extends Error {
  override readonly name = 'EncodingError';
  constructor(
    readonly format: EncodingFormat,
    /** Element path (`/A/B[2]/C`) or, for XML syntax errors, `line L, column C`. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${format.toUpperCase()} ${path}: ${reason}`);
  }
}

/** Path steps for a list of children: each name, with a 1-based index when siblings share the name. */
export function pathSteps(names: readonly string[]): string[] {
  const total = new Map<string, number>();
  for (const n of names) total.set(n, (total.get(n) ?? 0) + 1);
  const seen = new Map<string, number>();
  return names.map((n) => {
    const position = (seen.get(n) ?? 0) + 1;
    seen.set(n, position);
    return (total.get(n) ?? 0) > 1 ? `${n}[${position}]` : n;
  });
}
