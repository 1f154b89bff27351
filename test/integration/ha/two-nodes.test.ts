// K10 high availability: two real `kmipd serve` processes sharing one PostgreSQL database and one
// SoftHSM2 token, reached by real mutual-TLS clients. Each claim of the README's "High
// availability" section is checked here: any node serves any key; a client that loses a node
// continues on the other; kill -9 loses no answered request; concurrent ReKeys of one key have
// one winner; revocations reach the other node within REVOCATION_BOUND_MS; the audit trail stays
// one verifiable chain; /healthz reports the store as the load balancer needs it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KmipConnection } from '../../../src/client/connection.js';
import { REVOCATION_BOUND_MS } from '../../../src/authz/access-control.js';
import { Enum, Mask, Tag, enumValueName } from '../../../src/kmip/registry.js';
import type { ResponseMessage } from '../../../src/kmip/messages.js';
import { at, ops, uidOf, v21 } from '../../support/lifecycle-requests.js';
import { adminQuery, describePostgres } from '../../support/postgres.js';
import { describeHsm } from '../../support/softhsm.js';
import { call, connectNode, makeHaDeployment, startNode, type HaDeployment, type Node } from '../../support/ha-nodes.js';

const kmipdBin = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const M = Mask.CryptographicUsageMask;
const createAes = () => ops.createKey(v21, Enum.CryptographicAlgorithm.AES, 256, M.Encrypt | M.Decrypt);

function reason(res: ResponseMessage, i = 0): string {
  const item = res.batchItems[i]!;
  if (item.resultStatus === Enum.ResultStatus.Success) return 'Success';
  return (item.resultReason !== undefined && enumValueName('ResultReason', item.resultReason)) || 'none';
}

function material(res: ResponseMessage): Buffer {
  const m = at(res.batchItems[0]!.responsePayload ?? [], Tag.SymmetricKey, Tag.KeyBlock, Tag.KeyValue, Tag.KeyMaterial);
  if (m?.type !== 'ByteString') throw new Error(`Get answered without key material: ${reason(res)}`);
  return Buffer.from(m.value);
}

/** A binding made a moment ago takes effect within REVOCATION_BOUND_MS: Create until it does, then once more. */
async function createWhenBound(c: KmipConnection): Promise<string> {
  const start = Date.now();
  for (;;) {
    const r = reason(await call(c, [createAes()]));
    if (r !== 'AuthenticationNotSuccessful' || Date.now() - start > REVOCATION_BOUND_MS) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
}

function kmipdCli(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [kmipdBin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describeHsm('high availability', () => {
  describePostgres('two kmipd nodes on one PostgreSQL database and one HSM token', () => {
    let d: HaDeployment;
    let a: Node;
    let b: Node;
    const conns: KmipConnection[] = [];
    const connect = async (node: Node, cert = 'admin'): Promise<KmipConnection> => {
      const c = await connectNode(d.dir, node.port, cert);
      conns.push(c);
      return c;
    };

    beforeAll(async () => {
      d = await makeHaDeployment();
      [a, b] = await Promise.all([startNode(d.dir, 'A'), startNode(d.dir, 'B')]);
    });

    afterAll(async () => {
      for (const c of conns) c.close();
      await Promise.all([a?.stop(), b?.stop()]);
      d?.remove();
    });

    it('a key created on node A is read, re-keyed and destroyed on node B', async () => {
      const ca = await connect(a);
      const cb = await connect(b);
      const uid = uidOf((await call(ca, [createAes()])).batchItems[0]!.responsePayload ?? []);
      const onA = material(await call(ca, [ops.get(uid)]));
      const onB = material(await call(cb, [ops.get(uid)]));
      expect(onB.equals(onA)).toBe(true);
      expect(onA.length).toBe(32);

      const rekeyed = await call(cb, [ops.rekey(v21, uid)]);
      expect(reason(rekeyed)).toBe('Success');
      const fresh = uidOf(rekeyed.batchItems[0]!.responsePayload ?? []);
      expect(fresh).not.toBe(uid);
      const freshOnA = material(await call(ca, [ops.get(fresh)]));
      expect(freshOnA.equals(onA)).toBe(false);

      expect(reason(await call(cb, [{ operation: Enum.Operation.Destroy, payload: [{ tag: Tag.UniqueIdentifier, type: 'TextString', value: uid }] }]))).toBe('Success');
      const gone = await call(ca, [ops.get(uid)]);
      expect(reason(gone)).not.toBe('Success');
      // The replacement is untouched by the destruction of the key it replaced.
      expect(material(await call(ca, [ops.get(fresh)])).equals(freshOnA)).toBe(true);
    });

    it('concurrent ReKeys of one key on both nodes: one winner, one clean refusal', async () => {
      const ca = await connect(a);
      const cb = await connect(b);
      for (let round = 0; round < 6; round++) {
        const uid = uidOf((await call(ca, [createAes()])).batchItems[0]!.responsePayload ?? []);
        const results = await Promise.all([call(ca, [ops.rekey(v21, uid)]), call(cb, [ops.rekey(v21, uid)])]);
        const outcomes = results.map((r) => reason(r)).sort();
        expect(outcomes).toEqual(['IllegalOperation', 'Success']);
        const loser = results.find((r) => reason(r) !== 'Success')!;
        const winner = uidOf(results.find((r) => reason(r) === 'Success')!.batchItems[0]!.responsePayload ?? []);
        expect(loser.batchItems[0]!.resultMessage).toContain(winner);
      }
    });

    it('a revocation made with the CLI is enforced by both nodes within the documented bound', async () => {
      const issued = kmipdCli(['cert', 'issue', '--dir', d.dir, '--name', 'array-1', '--role', 'Writer']);
      expect(issued.status, issued.out).toBe(0);
      const onA = await connect(a, 'array-1');
      const onB = await connect(b, 'array-1');
      for (const c of [onA, onB]) expect(await createWhenBound(c)).toBe('Success');

      const revoked = kmipdCli(['cert', 'revoke', '--dir', d.dir, 'array-1', '--reason', 'test']);
      expect(revoked.status, revoked.out).toBe(0);
      // The revocation is committed once the CLI has exited: the bound runs from here.
      const t0 = Date.now();
      const closedWithin = async (c: KmipConnection): Promise<number> => {
        while (!c.closed && Date.now() - t0 < REVOCATION_BOUND_MS * 5) await new Promise((r) => setTimeout(r, 20));
        return c.closed ? Date.now() - t0 : Infinity;
      };
      const [ta, tb] = await Promise.all([closedWithin(onA), closedWithin(onB)]);
      expect(ta).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
      expect(tb).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
      for (const node of [a, b]) {
        const again = connect(node, 'array-1').then((c) => call(c, [createAes()]));
        await expect(again).rejects.toThrow();
      }
    });

    it('a binding removed with the CLI stops authenticating on both nodes within the bound', async () => {
      const issued = kmipdCli(['cert', 'issue', '--dir', d.dir, '--name', 'array-2', '--role', 'Writer']);
      expect(issued.status, issued.out).toBe(0);
      const fp = new (await import('node:crypto')).X509Certificate(readFileSync(path.join(d.dir, 'certs', 'array-2.crt'))).fingerprint256.replace(/:/g, '').toLowerCase();
      const onA = await connect(a, 'array-2');
      const onB = await connect(b, 'array-2');
      for (const c of [onA, onB]) expect(await createWhenBound(c)).toBe('Success');
      const removed = kmipdCli(['role', 'unbind', '--dir', d.dir, '--fingerprint', fp]);
      expect(removed.status, removed.out).toBe(0);
      const done = Date.now();
      const refusedBy = async (c: KmipConnection): Promise<number> => {
        for (;;) {
          const r = reason(await call(c, [createAes()]));
          if (r === 'AuthenticationNotSuccessful') return Date.now() - done;
          expect(r).toBe('Success');
          if (Date.now() - done > REVOCATION_BOUND_MS * 3) return Infinity;
          await new Promise((res) => setTimeout(res, 25));
        }
      };
      const [ta, tb] = await Promise.all([refusedBy(onA), refusedBy(onB)]);
      expect(ta).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
      expect(tb).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
    });

    it('/healthz of each node reports its database, and goes degraded (503) when it cannot reach it', async () => {
      for (const node of [a, b]) {
        const h = await node.healthz();
        expect(h.status).toBe(200);
        expect(h.body.checks['store']).toMatchObject({ ok: true, detail: expect.stringMatching(/^postgres answered in \d+ ms/) });
        expect(h.body.checks['hsm']?.ok).toBe(true);
      }
      // Cut this deployment off its database: no new logins, existing sessions ended.
      await adminQuery(`ALTER ROLE ${d.role} NOLOGIN`);
      try {
        await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [d.role]);
        const sick = await a.healthz();
        expect(sick.status).toBe(503);
        expect(sick.body.checks['store']).toMatchObject({ ok: false, detail: expect.stringMatching(/^postgres unreachable/) });
        expect(sick.body.checks['hsm']?.ok).toBe(true);
      } finally {
        await adminQuery(`ALTER ROLE ${d.role} LOGIN`);
      }
      // The pool reconnects by itself: the node is healthy again and serves.
      const deadline = Date.now() + 10_000;
      while ((await a.healthz()).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await a.healthz()).status).toBe(200);
      const c = await connect(a);
      expect(reason(await call(c, [createAes()]))).toBe('Success');
    });

    it('kill -9 of a node under load loses no answered request; its clients continue on the other node', async () => {
      const victim = await startNode(d.dir, 'A2');
      const answered: string[] = [];
      let failures = 0;
      const clients = await Promise.all(Array.from({ length: 6 }, () => connectNode(d.dir, victim.port)));
      const loops = clients.map(async (c) => {
        for (;;) {
          let res: ResponseMessage;
          try {
            res = await call(c, [createAes()]);
          } catch {
            failures++;
            return; // the node died under this request: it was never answered
          }
          expect(reason(res)).toBe('Success');
          answered.push(uidOf(res.batchItems[0]!.responsePayload ?? []));
        }
      });
      await new Promise((r) => setTimeout(r, 1_500));
      await victim.kill9();
      await Promise.all(loops);
      for (const c of clients) c.close();
      expect(failures).toBe(clients.length);
      expect(answered.length).toBeGreaterThan(20);

      // Like an appliance with two servers configured: the next request goes to node B.
      const cb = await connect(b);
      const missing: string[] = [];
      for (let i = 0; i < answered.length; i += 32) {
        const batch = answered.slice(i, i + 32);
        const res = await call(cb, batch.map((u) => ops.get(u)));
        res.batchItems.forEach((item, j) => {
          if (item.resultStatus !== Enum.ResultStatus.Success) missing.push(batch[j]!);
        });
      }
      expect(missing).toEqual([]);
    });

    it('a KEK rotation made with the CLI is picked up by both nodes: every key stays readable on both', async () => {
      const ca = await connect(a);
      const cb = await connect(b);
      const before = uidOf((await call(ca, [createAes()])).batchItems[0]!.responsePayload ?? []);
      const beforeMaterial = material(await call(cb, [ops.get(before)]));
      // --grace-ms 1: no waiting for the nodes' 10 s cache of the current version; the test waits.
      const r = kmipdCli(['hsm', 'rotate-kek', '--dir', d.dir, '--grace-ms', '1']);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toMatch(/under KEK v2/);
      expect(material(await call(ca, [ops.get(before)])).equals(beforeMaterial)).toBe(true);
      // A key created on B right away may still be wrapped under v1 (B's cache); after 10 s under v2.
      // Either way A, which never saw the rotation happen, reads it.
      for (const wait of [0, 11_000]) {
        await new Promise((res) => setTimeout(res, wait));
        const uid = uidOf((await call(cb, [createAes()])).batchItems[0]!.responsePayload ?? []);
        expect(material(await call(ca, [ops.get(uid)])).equals(material(await call(cb, [ops.get(uid)])))).toBe(true);
      }
      const status = kmipdCli(['hsm', 'status', '--dir', d.dir]);
      expect(status.status, status.out).toBe(0);
      expect(status.out).toMatch(/v2/);
    }, 60_000);

    it('the audit trail of both nodes is one chain that kmipd audit verify accepts', async () => {
      const r = kmipdCli(['audit', 'verify', '--dir', d.dir]);
      expect(r.status, r.out).toBe(0);
      const m = /audit trail intact: (\d+) records/.exec(r.out);
      expect(m, r.out).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(50);
      // Records from connections of both nodes (and the killed one) are in it.
      const shown = kmipdCli(['audit', 'show', '--dir', d.dir, '--json']);
      const records = shown.out.trim().split('\n').map((l) => JSON.parse(l) as { connection: string; operation: string });
      expect(new Set(records.map((x) => x.connection)).size).toBeGreaterThan(6);
      expect(records.filter((x) => x.operation === 'ReKey').length).toBeGreaterThanOrEqual(13);
    });
  });
});
