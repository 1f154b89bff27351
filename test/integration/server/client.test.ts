// The transport client (src/client/connection.ts): one request outstanding per connection with
// the rest queued, typed errors for every way a connection or a request can fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { TtlvFramer } from '../../../src/ttlv/framer.js';
import { connectKmip } from '../../../src/client/connection.js';
import type { ConnectKmipOptions } from '../../../src/client/connection.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { numberOf, numberedMessage } from '../../support/ttlv-messages.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});
afterAll(() => pki.cleanup());

/** A bare TLS peer whose behaviour each test scripts, so the client is tested on its own. */
async function peer(onMessage: (s: TLSSocket, m: Buffer) => void, onConnect?: (s: TLSSocket) => void): Promise<{ server: TlsServer; port: number }> {
  const server = createTlsServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true }, (s) => {
    s.on('error', () => {});
    onConnect?.(s);
    const framer = new TtlvFramer({ maxMessageSize: 1 << 20 });
    s.on('data', (d: Buffer) => {
      for (const m of framer.push(d)) onMessage(s, m);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function opts(port: number, extra: Partial<ConnectKmipOptions> = {}): ConnectKmipOptions {
  return { host: '127.0.0.1', port, servername: 'localhost', ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, timeoutMs: 2_000, ...extra };
}

describe('KMIP transport client', () => {
  it('keeps one request outstanding and queues the rest, answering each in order', async () => {
    let outstanding = 0;
    let maxOutstanding = 0;
    const { server, port } = await peer((s, m) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      setTimeout(() => {
        outstanding--;
        s.write(m);
      }, 20);
    });
    try {
      const c = await connectKmip(opts(port));
      const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => c.send(numberedMessage(n))));
      expect(answers.map(numberOf)).toEqual([1, 2, 3, 4, 5]);
      expect(maxOutstanding).toBe(1);
      await c.close();
      expect(c.closed).toBe(true);
    } finally {
      server.close();
    }
  });

  it('times out a request and fails the queued ones: the connection is not reused', async () => {
    const { server, port } = await peer(() => {});
    try {
      const c = await connectKmip(opts(port));
      const a = c.send(numberedMessage(1), { timeoutMs: 200 });
      const b = c.send(numberedMessage(2));
      await expect(a).rejects.toMatchObject({ name: 'KmipTransportError', code: 'RequestTimeout' });
      await expect(b).rejects.toMatchObject({ code: 'RequestTimeout' });
      await expect(c.send(numberedMessage(3))).rejects.toMatchObject({ code: 'RequestTimeout' });
    } finally {
      server.close();
    }
  });

  it('rejects a response that is not TTLV', async () => {
    const { server, port } = await peer((s) => s.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
    try {
      const c = await connectKmip(opts(port));
      await expect(c.send(numberedMessage(1))).rejects.toMatchObject({ code: 'BadResponse' });
    } finally {
      server.close();
    }
  });

  it('rejects bytes that arrive with no request outstanding', async () => {
    const { server, port } = await peer(() => {}, (s) => setTimeout(() => s.write(numberedMessage(9)), 50));
    try {
      const c = await connectKmip(opts(port));
      await new Promise((r) => setTimeout(r, 150));
      await expect(c.send(numberedMessage(1))).rejects.toMatchObject({ code: 'BadResponse' });
    } finally {
      server.close();
    }
  });

  it('reports a closed connection to the request waiting on it', async () => {
    const { server, port } = await peer((s) => s.destroy());
    try {
      const c = await connectKmip(opts(port));
      await expect(c.send(numberedMessage(1))).rejects.toMatchObject({ code: 'Closed' });
    } finally {
      server.close();
    }
  });

  it('fails to connect with a typed error: refused, untrusted server, no handshake', async () => {
    const { server, port } = await peer(() => {});
    server.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(connectKmip(opts(port))).rejects.toMatchObject({ code: 'ConnectFailed' });

    const live = await peer(() => {});
    try {
      await expect(connectKmip(opts(live.port, { ca: pki.otherCa.cert }))).rejects.toMatchObject({ code: 'ConnectFailed', message: /self-signed|unable to verify|issuer/i });
      await expect(connectKmip(opts(live.port, { servername: 'kmip.example.com' }))).rejects.toMatchObject({ code: 'ConnectFailed' });
    } finally {
      live.server.close();
    }

    const silent: NetServer = createNetServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const started = Date.now();
      await expect(connectKmip(opts((silent.address() as AddressInfo).port, { timeoutMs: 300 }))).rejects.toMatchObject({ code: 'ConnectTimeout' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.close();
    }
  });
});
