// K10 + K8: the rotation scheduler of two nodes on one PostgreSQL database rotates each due key
// exactly once. Keys are created over mutual TLS on a real kmipd node; then two schedulers, each
// with its own connection pool to the database (two nodes' stores) and the deployment's HSM
// token, run their passes at the same time, repeatedly. The rotation history, the keys' links and
// a count of symmetric keys must show one rotation per due key, whoever did it.
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hsmConfigOf } from '../../../src/app/executor-factory.js';
import { loadConfig } from '../../../src/config/config.js';
import { openPkcs11Protector, type Pkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { Enum, Mask } from '../../../src/kmip/registry.js';
import { createRotationScheduler } from '../../../src/rotation/scheduler.js';
import { openStoreBackend, type StoreBackend } from '../../../src/store/backend.js';
import { attr, ops, uidOf, v21 } from '../../support/lifecycle-requests.js';
import { describePostgres } from '../../support/postgres.js';
import { describeHsm } from '../../support/softhsm.js';
import { call, connectNode, makeHaDeployment, startNode, type HaDeployment, type Node } from '../../support/ha-nodes.js';

const KEYS = 24;

describeHsm('high availability', () => {
  describePostgres('rotation scheduler on two nodes', () => {
    let d: HaDeployment;
    let node: Node;
    let keys: Pkcs11Protector;
    const backends: StoreBackend[] = [];

    beforeAll(async () => {
      d = await makeHaDeployment();
      node = await startNode(d.dir, 'A');
      const config = loadConfig(d.dir);
      keys = await openPkcs11Protector(hsmConfigOf(config, d.dir));
      for (let i = 0; i < 2; i++) backends.push(await openStoreBackend(config.store, d.dir));
    });

    afterAll(async () => {
      for (const b of backends) await b.close();
      await keys?.close();
      await node?.stop();
      d?.remove();
    });

    it('rotates each due key exactly once, whichever node claims it', async () => {
      const conn = await connectNode(d.dir, node.port);
      const created: string[] = [];
      try {
        const past = BigInt(Math.floor(Date.now() / 1000) - 3600);
        for (let i = 0; i < KEYS; i++) {
          const res = await call(conn, [
            ops.createKey(v21, Enum.CryptographicAlgorithm.AES, 256, Mask.CryptographicUsageMask.Encrypt, [attr.activationDate(past)]),
          ]);
          created.push(uidOf(res.batchItems[0]!.responsePayload ?? []));
        }
      } finally {
        conn.close();
      }
      const now = Date.now();
      await backends[0]!.rotation.setPolicy({ target: { kind: 'tenant', tenant: 'default' }, intervalSeconds: 60, offsetSeconds: null, automatic: true, graceSeconds: null }, now - 120_000);

      const log = pino({ level: 'silent' });
      const clock = { now: () => Date.now() + 120_000, setTimeout: () => 0, clearTimeout: () => undefined };
      const schedulers = backends.map((b, i) =>
        createRotationScheduler({ objects: b.objects, rotation: b.rotation, keys, log, clock, owner: `node-${i}`, batchSize: 8 }),
      );
      let rotatedBy = [0, 0];
      for (let pass = 0; pass < 5; pass++) {
        const reports = await Promise.all(schedulers.map((s) => s.tick()));
        rotatedBy = rotatedBy.map((n, i) => n + reports[i]!.rotated.length);
        for (const r of reports) expect(r.failed, JSON.stringify(r.failed)).toEqual([]);
      }
      for (const s of schedulers) await s.stop();

      const history = await backends[1]!.rotation.history({ tenant: 'default' });
      const oldUids = history.map((h) => h.oldUid);
      // Every created key rotated once; the replacements were created 60 s "ago" by the shifted
      // clock at most, so they may be due again: count only the original keys.
      const originals = oldUids.filter((u) => created.includes(u));
      expect(originals.sort()).toEqual([...created].sort());
      expect(new Set(oldUids).size).toBe(oldUids.length);
      // What the two schedulers report as rotated is exactly what was recorded: no double counts.
      expect(rotatedBy[0]! + rotatedBy[1]!).toBe(history.length);
    });
  });
});
