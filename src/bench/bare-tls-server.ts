/**
 * The comparison point for new-connection rate: a bare node TLS server with kmipd's TLS policy
 * (src/server/tls-options.ts: same suites, one context, session tickets, client certificates
 * required and verified by OpenSSL) that answers every whole TTLV message with one canned
 * Discover Versions response, and does nothing else. Run as a child process, so it has a core of
 * its own like the servers it is compared with:
 *
 *   node dist/bench/bare-tls-server.js CA CERT KEY    → prints {"port":N} once listening
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { Enum, Tag } from '../kmip/registry.js';
import { encodeTtlv, TtlvFramer } from '../ttlv/index.js';
import type { TtlvNode } from '../ttlv/types.js';
import { tlsServerOptions } from '../server/tls-options.js';

const int = (tag: number, value: number): TtlvNode => ({ tag, type: 'Integer', value });
const version = (): TtlvNode => ({ tag: Tag.ProtocolVersion, type: 'Structure', value: [int(Tag.ProtocolVersionMajor, 1), int(Tag.ProtocolVersionMinor, 2)] });

function cannedDiscoverVersionsResponse(): Buffer {
  return encodeTtlv({
    tag: Tag.ResponseMessage,
    type: 'Structure',
    value: [
      {
        tag: Tag.ResponseHeader,
        type: 'Structure',
        value: [version(), { tag: Tag.TimeStamp, type: 'DateTime', value: BigInt(Math.floor(Date.now() / 1000)) }, int(Tag.BatchCount, 1)],
      },
      {
        tag: Tag.BatchItem,
        type: 'Structure',
        value: [
          { tag: Tag.Operation, type: 'Enumeration', value: Enum.Operation.DiscoverVersions },
          { tag: Tag.ResultStatus, type: 'Enumeration', value: Enum.ResultStatus.Success },
          { tag: Tag.ResponsePayload, type: 'Structure', value: [version()] },
        ],
      },
    ],
  });
}

function main(): void {
  const [ca, cert, key] = process.argv.slice(2);
  if (ca === undefined || cert === undefined || key === undefined) throw new Error('usage: bare-tls-server CA CERT KEY');
  const response = cannedDiscoverVersionsResponse();
  const server = createServer({
    ...tlsServerOptions({ ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) }, { legacyCiphers: false, requireClientAuthEku: true, handshakeTimeoutMs: 10_000 }),
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (socket) => {
    const framer = new TtlvFramer({ maxMessageSize: 1 << 20, requireStructure: true });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const _ of framer.push(chunk)) socket.write(response);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

main();
