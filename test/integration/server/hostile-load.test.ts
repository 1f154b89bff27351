// K2: 1,000 random and mutated messages in a row, each answered or cleanly closed, while a
// well-behaved client on another connection keeps getting answers — against a real deployment
// (`kmipd init` + the production executor, TLS, SoftHSM2, SQLite).
//
// Reproduce a failure with KMIPD_HOSTILE_SEED=<printed seed> (and KMIPD_HOSTILE_COUNT to shorten).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKmip, KmipTransportError, type KmipConnection } from '../../../src/client/connection.js';
import { encodeRequest, parseResponse } from '../../../src/client/request.js';
import type { ResponseMessage } from '../../../src/kmip/messages.js';
import { Enum, Tag, enumValueName } from '../../../src/kmip/registry.js';
import { startKmipdUnderTest, type KmipdUnderTest } from '../../support/kmipd-under-test.js';
import { hostileMessage, Rng, type HostileMessage } from '../../support/hostile-messages.js';
import { child, materialOf, okPayload, ops, uidOf, v14, v21 } from '../../support/lifecycle-requests.js';

const SEED = Number(process.env['KMIPD_HOSTILE_SEED'] ?? 0x4b3d2a11);
const COUNT = Number(process.env['KMIPD_HOSTILE_COUNT'] ?? 1000);
/** A hostile message must be answered or the connection closed within this. */
const ANSWER_OR_CLOSE_MS = 5_000;
/** The well-behaved client's per-request deadline. */
const GOOD_TIMEOUT_MS = 10_000;

let kmipd: KmipdUnderTest;
beforeAll(async () => {
  kmipd = await startKmipdUnderTest();
}, 60_000);
afterAll(async () => {
  await kmipd?.stop();
});

const connect = (session?: Buffer): Promise<KmipConnection> =>
  connectKmip({ host: kmipd.host, port: kmipd.port, ca: kmipd.ca, cert: kmipd.cert, key: kmipd.key, timeoutMs: ANSWER_OR_CLOSE_MS, session });

function status(res: ResponseMessage): string {
  return res.batchItems.map((i) => `${enumValueName('ResultStatus', i.resultStatus)}/${i.resultReason === undefined ? '-' : enumValueName('ResultReason', i.resultReason)}`).join(',');
}

type Outcome = { kind: 'answered'; res: ResponseMessage } | { kind: 'closed' };

const describeMsg = (m: HostileMessage): string =>
  `seed=0x${SEED.toString(16)} message #${m.index} (${m.kind}${m.note ? `, ${m.note}` : ''}, ${m.bytes.length} bytes, head ${m.bytes.subarray(0, 64).toString('hex')})`;

describe('K2: hostile messages under load', () => {
  it(`answers or cleanly closes ${COUNT} hostile messages while a well-behaved client keeps getting answers`, async () => {
    console.log(`[hostile-load] seed=0x${SEED.toString(16)} count=${COUNT} (rerun with KMIPD_HOSTILE_SEED=${SEED})`);
    const rng = new Rng(SEED);
    const started = Date.now();

    // --- The well-behaved client, on its own connection, in a loop until the hostile run ends.
    let stop = false;
    const good = { rounds: 0, requests: 0 };
    const goodLoop = (async () => {
      const c = await connectKmip({ host: kmipd.host, port: kmipd.port, ca: kmipd.ca, cert: kmipd.cert, key: kmipd.key, timeoutMs: GOOD_TIMEOUT_MS });
      try {
        while (!stop) {
          const round = good.rounds;
          const call = async (what: string, bytes: Buffer): Promise<ResponseMessage> => {
            good.requests++;
            try {
              return parseResponse(await c.send(bytes));
            } catch (err) {
              throw new Error(`well-behaved client, round ${round}, ${what}: ${(err as Error).message}`, { cause: err });
            }
          };
          const version = round % 2 === 0 ? v21 : v14;

          const dv = await call('Discover Versions', encodeRequest(version, [{ operation: Enum.Operation.DiscoverVersions, payload: [] }]));
          const versions = okPayload(dv).filter((n) => n.tag === Tag.ProtocolVersion);
          expect(versions.length, `round ${round}: Discover Versions lists versions`).toBeGreaterThan(0);

          const q = await call('Query', encodeRequest(version, [{ operation: Enum.Operation.Query, payload: [{ tag: Tag.QueryFunction, type: 'Enumeration', value: Enum.QueryFunction.QueryOperations }] }]));
          const opsListed = okPayload(q).filter((n) => n.tag === Tag.Operation).map((n) => n.value);
          expect(opsListed, `round ${round}: Query lists Create and Get`).toEqual(expect.arrayContaining([Enum.Operation.Create, Enum.Operation.Get]));

          if (round % 3 === 0) {
            const cr = await call('Create', encodeRequest(version, [ops.createKey(version, Enum.CryptographicAlgorithm.AES, 256, 0x4 | 0x8)]));
            const uid = uidOf(okPayload(cr));
            const got = await call('Get', encodeRequest(version, [ops.get(uid)]));
            const payload = okPayload(got);
            expect(child(payload, Tag.UniqueIdentifier)?.value, `round ${round}: Get returns the uid`).toBe(uid);
            expect(materialOf(payload).length, `round ${round}: AES-256 key material`).toBe(32);
          }
          good.rounds++;
        }
      } finally {
        await c.close();
      }
    })();
    // If the good client fails, end the hostile run early (the failure is reported below).
    let goodFailure: unknown;
    goodLoop.catch((err: unknown) => {
      goodFailure = err;
      stop = true;
    });

    // --- The hostile run: one message at a time, reusing the connection while the server keeps it.
    const tally = new Map<string, { answered: number; closed: number }>();
    let conn: KmipConnection | undefined;
    let session: Buffer | undefined;
    let connections = 0;
    const fresh = async (): Promise<KmipConnection> => {
      const c = await connect(session);
      connections++;
      session = c.session ?? session;
      return c;
    };

    const sendOne = async (m: HostileMessage): Promise<Outcome> => {
      for (let attemptNo = 0; ; attemptNo++) {
        const reused = conn !== undefined;
        if (conn === undefined || conn.closed) conn = await fresh();
        const c = conn;
        let raw: Buffer;
        try {
          raw = await c.send(m.bytes, { timeoutMs: ANSWER_OR_CLOSE_MS });
        } catch (err) {
          if (!(err instanceof KmipTransportError)) throw err;
          conn = undefined;
          await c.close();
          if (err.code === 'Closed') {
            // The server may have closed a reused connection after answering the previous
            // message: retry once on a fresh connection so this message is really tested.
            if (reused && attemptNo === 0) continue;
            return { kind: 'closed' };
          }
          throw new Error(`${describeMsg(m)}: neither answered nor closed: ${err.code}: ${err.message}`, { cause: err });
        }
        session = c.session ?? session;
        try {
          return { kind: 'answered', res: parseResponse(raw) };
        } catch (err) {
          throw new Error(`${describeMsg(m)}: the answer is not a KMIP Response Message (${(err as Error).message}): ${raw.subarray(0, 128).toString('hex')}`, { cause: err });
        }
      }
    };

    try {
      for (let i = 0; i < COUNT && !stop; i++) {
        const m = hostileMessage(rng, i);
        const outcome = await sendOne(m);
        const t = tally.get(m.kind) ?? { answered: 0, closed: 0 };
        t[outcome.kind]++;
        tally.set(m.kind, t);
        if (m.mustSucceed) {
          expect(outcome.kind, `${describeMsg(m)}: a valid request must be answered`).toBe('answered');
          if (outcome.kind === 'answered') {
            expect(outcome.res.batchItems.every((b) => b.resultStatus === Enum.ResultStatus.Success), `${describeMsg(m)}: ${status(outcome.res)}`).toBe(true);
          }
        }
        if (outcome.kind === 'answered') {
          // Whatever the request, a response carries at least one batch item with a result status.
          expect(outcome.res.batchItems.length, `${describeMsg(m)}: response without batch items`).toBeGreaterThan(0);
        }
      }
    } finally {
      stop = true;
      await conn?.close();
    }
    await goodLoop.catch(() => undefined);
    if (goodFailure !== undefined) throw goodFailure;

    const elapsed = Date.now() - started;
    console.log(
      `[hostile-load] ${COUNT} hostile messages on ${connections} connections in ${elapsed} ms; well-behaved client: ${good.rounds} rounds, ${good.requests} requests\n` +
        [...tally].map(([k, v]) => `  ${k.padEnd(17)} answered ${v.answered}, closed ${v.closed}`).join('\n'),
    );
    expect(good.rounds, 'the well-behaved client completed rounds during the run').toBeGreaterThan(3);

    // --- Afterwards the server still answers, on a fresh connection, including a Create + Get.
    const after = await connect();
    try {
      const cr = parseResponse(await after.send(encodeRequest(v21, [ops.createKey(v21, Enum.CryptographicAlgorithm.AES, 128, 0x4 | 0x8)])));
      const uid = uidOf(okPayload(cr));
      const got = parseResponse(await after.send(encodeRequest(v21, [ops.get(uid)])));
      expect(materialOf(okPayload(got)).length).toBe(16);
    } finally {
      await after.close();
    }
    expect(kmipd.running.kmip.address.port).toBe(kmipd.port);
  }, 120_000);
});
