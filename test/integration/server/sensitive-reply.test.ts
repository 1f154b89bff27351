// A reply that carries key material (ExecutorResult.sensitive) is zeroed by the transport once the
// TLS socket has taken it; other replies are left alone. Real TLS, a stand-in executor that keeps
// a reference to the bytes it returned.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConnectionInfo, ExecutorResult, MessageExecutor } from '../../../src/dispatch/types.js';
import { startTestServer, waitFor } from '../../support/kmip-test-server.js';
import type { TestServer } from '../../support/kmip-test-server.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { testMessage } from '../../support/ttlv-messages.js';

let pki: TestPki;
let t: TestServer;
const returned: { bytes: Buffer; sensitive: boolean }[] = [];

// Answers with a copy of the request; a request of 32 bytes or more gets a "secret" reply.
const executor: MessageExecutor = {
  async execute(message: Buffer, _conn: ConnectionInfo): Promise<ExecutorResult> {
    const bytes = Buffer.from(message);
    const sensitive = message.length >= 32;
    returned.push({ bytes, sensitive });
    return sensitive ? { kind: 'reply', bytes, sensitive: true } : { kind: 'reply', bytes };
  },
};

beforeAll(async () => {
  pki = makeTestPki();
  t = await startTestServer({ pki, executor });
});
afterAll(async () => {
  await t.close();
  pki.cleanup();
});

it('zeroes a sensitive reply after writing it, and leaves other replies as they were', async () => {
  const c = await t.client();
  const secret = testMessage(64);
  const plain = testMessage(8);
  expect((await c.send(secret)).equals(secret)).toBe(true);
  expect((await c.send(plain)).equals(plain)).toBe(true);
  await c.close();
  const [s, p] = returned;
  await waitFor(() => s!.bytes.every((b) => b === 0));
  expect(s!.sensitive).toBe(true);
  expect(s!.bytes.every((b) => b === 0)).toBe(true);
  expect(p!.bytes.equals(plain)).toBe(true);
});
