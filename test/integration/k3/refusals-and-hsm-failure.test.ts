// K3: `kmipd serve` refuses to start, with an explanation, on a wrong PIN, a missing PKCS#11 module
// and a token without KEK; and an HSM failure in the middle of a Create leaves nothing
// half-written (no object row, no attribute rows), through a real server over mutual TLS.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hsmConfigOf, kmipdExecutorFactory } from '../../../src/app/executor-factory.js';
import { serveDeployment, type ExecutorFactory } from '../../../src/cli/serve.js';
import { loadConfig, resolvePath } from '../../../src/config/config.js';
import { createExecutor } from '../../../src/dispatch/executor.js';
import type { KeyProtector } from '../../../src/hsm/key-protector.js';
import { HsmError } from '../../../src/hsm/errors.js';
import { openPkcs11Protector } from '../../../src/hsm/pkcs11-protector.js';
import { createHandlerTable } from '../../../src/ops/index.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { describeHsm } from '../../support/softhsm.js';
import { connectAdmin, createKey, getMaterial, kmipdBin, makeDeployment, type Deployment } from './k3-support.js';

const quiet = { write: () => undefined };

function serve(dir: string, executorFactory: ExecutorFactory = kmipdExecutorFactory) {
  return serveDeployment(dir, { listen: '127.0.0.1:0', adminListen: null, executorFactory, logDestination: quiet });
}

describeHsm('K3: serve refuses to start without a usable HSM', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await makeDeployment();
  });
  afterAll(() => rmSync(d.root, { recursive: true, force: true }));

  function editConfig(edit: (c: { hsm: Record<string, unknown> }) => void): () => void {
    const file = path.join(d.dir, 'kmipd.json');
    const original = readFileSync(file, 'utf8');
    const c = JSON.parse(original) as { hsm: Record<string, unknown> };
    edit(c);
    writeFileSync(file, JSON.stringify(c));
    return () => writeFileSync(file, original);
  }

  it('wrong PIN', async () => {
    const pinFile = resolvePath(d.dir, loadConfig(d.dir).hsm.pinFile);
    const pin = readFileSync(pinFile);
    writeFileSync(pinFile, '000000-wrong\n');
    try {
      await expect(serve(d.dir)).rejects.toThrow(/PIN is incorrect/);
    } finally {
      writeFileSync(pinFile, pin);
    }
  });

  it('missing PKCS#11 module path', async () => {
    const restore = editConfig((c) => (c.hsm['module'] = '/nonexistent/libmissing-pkcs11.so'));
    try {
      await expect(serve(d.dir)).rejects.toThrow(/libmissing-pkcs11\.so/);
    } finally {
      restore();
    }
  });

  it('a token without KEK, also from the command line (exit 1, reason on stderr)', async () => {
    const keys = await openPkcs11Protector(hsmConfigOf(loadConfig(d.dir), d.dir));
    await keys.destroyKek(1);
    await keys.close();
    await expect(serve(d.dir)).rejects.toThrow(/no KEK found on token 'kmipd'.*kmipd init/);
    const r = spawnSync(process.execPath, [kmipdBin, 'serve', '--dir', d.dir, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^kmipd: no KEK found on token 'kmipd'/m);
  });
});

type FailMode = 'none' | 'before' | 'after';

/** The production wiring, with a protector whose generate() fails on demand. */
function failingFactory(control: { mode: FailMode }): ExecutorFactory {
  return async ({ config, dir }) => {
    const real = await openPkcs11Protector(hsmConfigOf(config, dir));
    const keys: KeyProtector = {
      generate: async (spec, binding) => {
        if (control.mode === 'before') throw new HsmError('DeviceError', 'HSM failure while generating key material (CKR_DEVICE_ERROR)', { ckr: 'CKR_DEVICE_ERROR' });
        const pm = await real.generate(spec, binding);
        // The key was generated and wrapped, then the HSM went away before the answer arrived.
        if (control.mode === 'after') throw new HsmError('SessionLost', 'HSM session lost while generating key material (CKR_DEVICE_REMOVED)', { ckr: 'CKR_DEVICE_REMOVED' });
        return pm;
      },
      generateKeyPair: (spec, b) => real.generateKeyPair(spec, b),
      signEcdsaDigest: (c, d, digest) => real.signEcdsaDigest(c, d, digest),
      verifyEcdsaDigest: (c, q, digest, sig) => real.verifyEcdsaDigest(c, q, digest, sig),
      protect: (p, b) => real.protect(p, b),
      reveal: (pm, b) => real.reveal(pm, b),
      rewrap: (pm, b, v) => real.rewrap(pm, b, v),
      forget: (uid) => real.forget(uid),
      random: (n) => real.random(n),
      health: () => real.health(),
      close: () => real.close(),
    };
    if (config.store.kind !== 'sqlite') throw new Error('this test uses the SQLite store');
    const store = await openSqliteStore({ path: resolvePath(dir, config.store.path) });
    const executor = createExecutor({
      handlers: createHandlerTable({ vendorIdentification: 'kmipd', serverVersion: 'test' }),
      limits: { maxMessageBytes: 1 << 20, maxDepth: 32, maxBatchCount: 64 },
      log: pino({ level: 'silent' }),
      services: { openUnit: (scope) => store.begin({ tenant: scope }), keys },
    });
    return {
      execute: (m, c) => executor.execute(m, c),
      async close() {
        await store.close();
        await keys.close();
      },
    };
  };
}

describeHsm('K3: HSM failure in the middle of a Create', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await makeDeployment();
  });
  afterAll(() => rmSync(d.root, { recursive: true, force: true }));

  function rowCounts(): { objects: number; attributes: number; orphans: number } {
    const db = new Database(d.dbPath, { readonly: true });
    try {
      const n = (sql: string): number => db.prepare(sql).pluck().get() as number;
      return {
        objects: n('SELECT count(*) FROM objects'),
        attributes: n('SELECT count(*) FROM attributes'),
        orphans: n('SELECT count(*) FROM attributes WHERE uid NOT IN (SELECT uid FROM objects)'),
      };
    } finally {
      db.close();
    }
  }

  it('nothing is written when generate fails before or after the HSM produced the key', async () => {
    const control: { mode: FailMode } = { mode: 'none' };
    const running = await serve(d.dir, failingFactory(control));
    const conn = await connectAdmin(d.dir, running.kmip.address.port);
    try {
      const good = await createKey(conn);
      const before = rowCounts();
      expect(before.objects).toBe(1);
      expect(before.attributes).toBeGreaterThan(0);
      for (const mode of ['before', 'after'] as const) {
        control.mode = mode;
        await expect(createKey(conn)).rejects.toThrow(/Create failed: OperationFailed CryptographicFailure/);
        expect(rowCounts(), `after a failure (${mode})`).toEqual(before);
      }
      control.mode = 'none';
      // The server carries on: the earlier key reads, a new one is created.
      expect((await getMaterial(conn, good)).length).toBe(32);
      await createKey(conn);
      const after = rowCounts();
      expect(after.objects).toBe(2);
      expect(after.orphans).toBe(0);
    } finally {
      await conn.close();
      await running.shutdown();
    }
  });
});
