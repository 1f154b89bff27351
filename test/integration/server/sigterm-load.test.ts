// SIGTERM during load loses no answered request: the compiled `kmipd serve` (dist/, as
// deployed) in a child process on a `kmipd init` deployment, a Create load from several
// connections, SIGTERM mid-load. The process must exit 0; every Create answered with Success must
// be there after a restart on the same deployment; every request sent around or after the signal
// is either answered with a whole response or its connection closes with no partial response.
//
// The load uses a raw TLS client with its own framer, so that a connection closing in the middle
// of a response (some bytes of it received) is seen, rather than folded into "closed".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest, parseResponse } from '../../../src/client/request.js';
import { Enum, Tag, enumValueName } from '../../../src/kmip/registry.js';
import { TtlvFramer } from '../../../src/ttlv/framer.js';
import { connectAdmin, getKey, kmipdBin, makeDeployment, repoRoot, serveChild, type Deployment, type ServeChild } from '../k3/k3-support.js';
import { child, ops, v21 } from '../../support/lifecycle-requests.js';

const CONNECTIONS = 6;
/** Answers before the signal: enough that the load is really under way. */
const ANSWERS_BEFORE_SIGNAL = 40;
/** A request must be answered, or its connection closed, within this (drain timeout is 10 s). */
const REQUEST_DEADLINE_MS = 20_000;

let d: Deployment;
let server: ServeChild | undefined;

beforeAll(async () => {
  if (!existsSync(kmipdBin)) {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
  }
  d = await makeDeployment();
}, 180_000);
afterAll(async () => {
  if (server && server.proc.exitCode === null && server.proc.signalCode === null) await server.kill9();
  if (d) rmSync(d.root, { recursive: true, force: true });
});

type Outcome =
  | { kind: 'answered'; bytes: Buffer }
  | { kind: 'closed'; partialBytes: number }
  | { kind: 'timeout' };

/** One TLS connection, one request at a time; reports partial responses at close. */
class RawKmip {
  readonly #socket: TLSSocket;
  readonly #framer = new TtlvFramer({ maxMessageSize: 16 * 1024 * 1024, requireStructure: true });
  #pending: ((o: Outcome) => void) | undefined;
  #received = 0;
  closed = false;
  framingError: string | undefined;

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received += chunk.length;
      let msgs: Buffer[];
      try {
        msgs = this.#framer.push(chunk);
      } catch (err) {
        this.framingError = (err as Error).message;
        socket.destroy();
        return;
      }
      for (const m of msgs) {
        const p = this.#pending;
        this.#pending = undefined;
        if (p) p({ kind: 'answered', bytes: m });
        else this.framingError = 'unrequested response';
      }
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.closed = true;
      const p = this.#pending;
      this.#pending = undefined;
      p?.({ kind: 'closed', partialBytes: this.#framer.bufferedBytes });
    });
  }

  static open(dir: string, port: number): Promise<RawKmip> {
    const certs = path.join(dir, 'certs');
    return new Promise((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: readFileSync(path.join(certs, 'ca.crt')),
        cert: readFileSync(path.join(certs, 'admin.crt')),
        key: readFileSync(path.join(certs, 'admin.key')),
        minVersion: 'TLSv1.2',
      });
      s.setNoDelay(true);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('no TLS handshake within 10 s'));
      }, 10_000);
      s.once('secureConnect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        resolve(new RawKmip(s));
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      s.once('error', onError);
    });
  }

  send(bytes: Buffer): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ kind: 'closed', partialBytes: this.#framer.bufferedBytes });
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        resolve({ kind: 'timeout' });
        this.#socket.destroy();
      }, REQUEST_DEADLINE_MS);
      this.#pending = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      this.#socket.write(bytes);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

interface Sent {
  conn: number;
  afterSignal: boolean;
  outcome: Outcome;
  uid?: string;
  status?: string;
}

describe('SIGTERM during a Create load', () => {
  it('exits 0, loses no answered Create, and half-answers nothing', async () => {
    const srv = await serveChild(d.dir);
    server = srv;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      srv.proc.once('exit', (code, signal) => r({ code, signal })),
    );
    const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawKmip.open(d.dir, srv.port)));

    const sent: Sent[] = [];
    let signalled = false;
    let answered = 0;
    let signalAt = 0;
    const create = encodeRequest(v21, [ops.createKey(v21, Enum.CryptographicAlgorithm.AES, 256, 0x4 | 0x8)]);
    const started = Date.now();

    const loop = async (i: number, c: RawKmip): Promise<void> => {
      // Keep sending until the server closes this connection; a hard stop guards the test.
      while (Date.now() - started < 45_000) {
        const afterSignal = signalled;
        const outcome = await c.send(create);
        const s: Sent = { conn: i, afterSignal, outcome };
        sent.push(s);
        if (outcome.kind !== 'answered') return;
        const res = parseResponse(outcome.bytes); // a whole response must parse
        const item = res.batchItems[0];
        s.status = item ? `${enumValueName('ResultStatus', item.resultStatus)}/${item.resultReason === undefined ? '-' : enumValueName('ResultReason', item.resultReason)}` : 'no batch item';
        if (item?.resultStatus === Enum.ResultStatus.Success) {
          const uid = child(item.responsePayload ?? [], Tag.UniqueIdentifier);
          if (uid?.type !== 'TextString') throw new Error('Create answered Success without a Unique Identifier');
          s.uid = uid.value;
          answered++;
        }
        if (!signalled && answered >= ANSWERS_BEFORE_SIGNAL) {
          signalled = true;
          signalAt = Date.now();
          srv.proc.kill('SIGTERM');
        }
      }
    };
    const loops = conns.map((c, i) => loop(i, c));

    // After the signal, a new connection is refused or closed, or answers whole responses.
    const lateOutcomes: string[] = [];
    const late = (async () => {
      while (!signalled) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      try {
        const c = await RawKmip.open(d.dir, srv.port);
        const o = await c.send(create);
        lateOutcomes.push(o.kind === 'closed' ? `closed (partial ${o.partialBytes})` : o.kind);
        if (o.kind === 'answered') parseResponse(o.bytes);
        if (o.kind === 'closed') expect(o.partialBytes, 'late connection: half-answered request').toBe(0);
        expect(o.kind, 'late connection: neither answered nor closed').not.toBe('timeout');
        c.destroy();
      } catch (err) {
        lateOutcomes.push(`refused: ${(err as Error).message}`);
      }
    })();

    await Promise.all(loops);
    await late;
    const exit = await Promise.race([
      exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000)),
    ]);
    const exitAt = Date.now();
    for (const c of conns) c.destroy();
    const out = srv.output();

    const afterSignal = sent.filter((s) => s.afterSignal);
    const halfAnswered = sent.filter((s) => s.outcome.kind === 'closed' && s.outcome.partialBytes > 0);
    const timedOut = sent.filter((s) => s.outcome.kind === 'timeout');
    const successes = sent.filter((s) => s.uid !== undefined);
    const failures = sent.filter((s) => s.status !== undefined && s.uid === undefined);
    console.log(
      `[sigterm-load] ${sent.length} Creates on ${CONNECTIONS} connections: ${successes.length} Success (${successes.filter((s) => s.afterSignal).length} after the signal), ` +
        `${failures.length} failure answers [${[...new Set(failures.map((f) => f.status))].join(', ')}], ` +
        `${sent.filter((s) => s.outcome.kind === 'closed').length} closed, ${timedOut.length} timed out; ${afterSignal.length} sent after the signal; ` +
        `late connection: ${lateOutcomes.join('; ')}; exit ${JSON.stringify(exit)} ${exit === 'hung' ? '' : `${exitAt - signalAt} ms after the signal`}; ` +
        `drain deadline reached: ${out.includes('drain deadline reached')}`,
    );

    expect(signalled, 'the load reached the signal point').toBe(true);
    expect(exit, `kmipd exits 0 on SIGTERM; output:\n${out}`).toEqual({ code: 0, signal: null });
    // The drain deadline (limits.drainTimeoutMs, 10 s by default) bounds the stop, whatever the load.
    expect(exitAt - signalAt, 'kmipd stops within the drain deadline (+ margin)').toBeLessThan(15_000);
    // A pipelining client must not hold the stop until the deadline (where a request executing at
    // that moment would be committed but never answered): draining stops taking new requests.
    expect(out, 'the drain finished gracefully, without reaching its deadline').not.toContain('drain deadline reached');
    expect(halfAnswered.map((s) => `conn ${s.conn}: ${(s.outcome as { partialBytes: number }).partialBytes} bytes of a response`), 'half-answered requests').toEqual([]);
    expect(timedOut.length, 'requests neither answered nor closed').toBe(0);
    expect(out).toContain('"msg":"kmipd stopped"');
    const errors = out.split('\n').filter((l) => /"level":"(error|fatal)"|"level":(50|60)\b/.test(l));
    expect(errors, 'error or fatal log lines while stopping under load').toEqual([]);

    // Restart on the same deployment: every Create answered with Success is there.
    const again = await serveChild(d.dir);
    server = again;
    try {
      const c = await connectAdmin(d.dir, again.port);
      const missing: string[] = [];
      for (const s of successes) {
        const r = await getKey(c, s.uid!);
        if (!r.ok) missing.push(`${s.uid} (conn ${s.conn}${s.afterSignal ? ', after the signal' : ''}): ${r.reason} ${r.message}`);
        else if (r.material.length !== 32) missing.push(`${s.uid}: ${r.material.length}-byte material`);
      }
      await c.close();
      expect(missing, 'answered Creates missing after the restart').toEqual([]);
      expect(successes.length).toBeGreaterThanOrEqual(ANSWERS_BEFORE_SIGNAL);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
