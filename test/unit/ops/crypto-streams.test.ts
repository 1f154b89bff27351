// The table of streamed cipher contexts (src/ops/crypto-streams.ts) and the reading of the
// streaming indicators (src/ops/stream-operation.ts streamPhase): limits, owners, expiry.
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KmipError } from '../../../src/kmip/errors.js';
import { CryptoStreams, type CryptoStream } from '../../../src/ops/crypto-streams.js';
import { streamPhase } from '../../../src/ops/stream-operation.js';

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof KmipError) return err.reason;
    throw err;
  }
  return undefined;
}

const stream = (owner: string, operation: CryptoStream['operation'] = 'Encrypt'): Omit<CryptoStream, 'lastUsed'> => ({
  owner,
  operation,
  uid: 'k',
  usage: 4,
  context: createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16)),
  tagLength: undefined,
});
const cv = (n: number): Buffer => Buffer.alloc(16, n);

describe('CryptoStreams', () => {
  it('finds a stream only for its owner and its operation', () => {
    const t = new CryptoStreams();
    t.open(cv(1), stream('alice'));
    expect(t.take('alice', cv(1), 'Encrypt').uid).toBe('k');
    expect(reasonOf(() => t.take('bob', cv(1), 'Encrypt'))).toBe('InvalidField');
    expect(reasonOf(() => t.take('alice', cv(1), 'Decrypt'))).toBe('InvalidField');
    expect(reasonOf(() => t.take('alice', cv(2), 'Encrypt'))).toBe('InvalidField');
    t.close(cv(1));
    expect(reasonOf(() => t.take('alice', cv(1), 'Encrypt'))).toBe('InvalidField');
    expect(t.size).toBe(0);
  });

  it('limits streams per principal and in total, with a clear refusal; closing frees a slot', () => {
    const t = new CryptoStreams({ maxPerPrincipal: 2, maxTotal: 3 });
    t.open(cv(1), stream('alice'));
    t.open(cv(2), stream('alice'));
    expect(() => t.admit('alice')).toThrow(/already has 2 streamed operations/);
    expect(reasonOf(() => t.open(cv(3), stream('alice')))).toBe('IllegalOperation');
    t.open(cv(3), stream('bob'));
    expect(() => t.admit('carol')).toThrow(/too many streamed cryptographic operations/);
    t.close(cv(1));
    t.open(cv(4), stream('alice'));
    expect(t.size).toBe(3);
  });

  it('drops streams idle longer than the limit; using a stream keeps it alive', () => {
    let now = 1_000_000;
    const t = new CryptoStreams({ idleMs: 1000 }, () => now);
    t.open(cv(1), stream('alice'));
    t.open(cv(2), stream('alice'));
    now += 800;
    t.take('alice', cv(2), 'Encrypt');
    now += 800;
    expect(reasonOf(() => t.take('alice', cv(1), 'Encrypt'))).toBe('InvalidField');
    expect(t.take('alice', cv(2), 'Encrypt').owner).toBe('alice');
    now += 1001;
    expect(t.size).toBe(0);
  });
});

describe('streamPhase', () => {
  it('reads Init / Final Indicator and Correlation Value', () => {
    expect(streamPhase({})).toBe('single');
    expect(streamPhase({ initIndicator: true, finalIndicator: true })).toBe('single');
    expect(streamPhase({ finalIndicator: true })).toBe('single');
    expect(streamPhase({ initIndicator: true })).toBe('init');
    expect(streamPhase({ initIndicator: true, finalIndicator: false })).toBe('init');
    expect(streamPhase({ correlationValue: cv(1) })).toBe('continue');
    expect(streamPhase({ correlationValue: cv(1), finalIndicator: true })).toBe('continue');
    expect(reasonOf(() => streamPhase({ correlationValue: cv(1), initIndicator: true }))).toBe('InvalidField');
    expect(reasonOf(() => streamPhase({ initIndicator: false }))).toBe('InvalidField');
    expect(reasonOf(() => streamPhase({ finalIndicator: false }))).toBe('InvalidField');
  });
});
