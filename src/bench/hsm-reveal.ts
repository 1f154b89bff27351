// Micro-benchmark of KeyProtector.reveal() on a private SoftHSM2 token (the cost every Get,
// Encrypt, Decrypt and Sign pays for the stored key), and of each PKCS#11 call reveal makes.
//
//   node dist/bench/hsm-reveal.js [--n 20000] [--keys 64] [--concurrency 16] [--cache <entries>]
//
// Prints reveals/s and microseconds per reveal, sequential and with `concurrency` callers, for
// `keys` distinct keys revealed round-robin, then the same per raw call on one session.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { macInput, decodeEnvelope } from '../hsm/envelope.js';
import type { Binding, ProtectedMaterial } from '../hsm/key-protector.js';
import { MAC_MECHANISM, WRAP_MECHANISM, readableSessionKeyTemplate } from '../hsm/key-ops.js';
import { attachModule, ck, detachModule, findTokenSlot } from '../hsm/pkcs11-library.js';
import { openPkcs11Protector } from '../hsm/pkcs11-protector.js';
import { SOFTHSM_MODULE, generatePin, provisionSoftHsmToken } from '../hsm/token.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '20000' },
    keys: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '16' },
    cache: { type: 'string' },
  },
});
const N = Number(values.n);
const KEYS = Number(values.keys);
const CONC = Number(values.concurrency);

/** Wall time and CPU time of this process (user + system) per call: the machine is shared. */
function report(what: string, n: number, ns: bigint, cpu?: NodeJS.CpuUsage): void {
  const us = Number(ns) / 1000 / n;
  const cpuUs = cpu === undefined ? '' : `  cpu ${((cpu.user + cpu.system) / n).toFixed(1).padStart(7)} us`;
  console.log(`${what.padEnd(50)} ${String(Math.round(1e6 / us)).padStart(8)}/s ${us.toFixed(1).padStart(8)} us${cpuUs}`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-bench-hsm-'));
  try {
    const label = 'bench';
    const pin = generatePin();
    const { confPath } = await provisionSoftHsmToken({ dir, label, soPin: generatePin(), userPin: pin });
    const pinFile = join(dir, 'pin');
    await writeFile(pinFile, pin, { mode: 0o600 });
    const config: Record<string, unknown> = {
      module: SOFTHSM_MODULE,
      tokenLabel: label,
      pin: { file: pinFile },
      softhsmConf: confPath,
    };
    if (values.cache !== undefined) config['revealCacheEntries'] = Number(values.cache);
    const hsm = await openPkcs11Protector(config as unknown as Parameters<typeof openPkcs11Protector>[0]);
    await hsm.createKek(1);
    const items: { pm: ProtectedMaterial; b: Binding }[] = [];
    for (let i = 0; i < KEYS; i++) {
      const b = { uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, objectType: 2 };
      items.push({ pm: await hsm.generate({ kind: 'aes', bits: 256 }, b), b });
    }
    const at = (i: number) => items[i % KEYS] as { pm: ProtectedMaterial; b: Binding };
    for (let i = 0; i < 2000; i++) (await hsm.reveal(at(i).pm, at(i).b)).fill(0); // warm-up

    let c = process.cpuUsage();
    let t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) (await hsm.reveal(at(i).pm, at(i).b)).fill(0);
    report(`reveal, sequential (${KEYS} keys)`, N, process.hrtime.bigint() - t, process.cpuUsage(c));

    c = process.cpuUsage();
    t = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (next < N) {
          const i = next++;
          (await hsm.reveal(at(i).pm, at(i).b)).fill(0);
        }
      }),
    );
    report(`reveal, ${CONC} concurrent callers`, N, process.hrtime.bigint() - t, process.cpuUsage(c));
    const stats = (hsm as unknown as { revealCacheStats?: () => unknown }).revealCacheStats?.();
    if (stats !== undefined) console.log('cache', JSON.stringify(stats));
    await hsm.close();

    // The raw calls, on one session with session copies of the KEK and binding key, as reveal makes them.
    const m = attachModule(SOFTHSM_MODULE, confPath);
    const p11 = m.p11;
    const slot = findTokenSlot(m, label);
    const s = p11.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION);
    try {
      p11.C_Login(s, ck.CKU_USER, pin);
    } catch {
      // already logged in
    }
    const find = (l: string) => {
      p11.C_FindObjectsInit(s, [{ type: ck.CKA_LABEL, value: l }]);
      const [h] = p11.C_FindObjects(s, 1);
      p11.C_FindObjectsFinal(s);
      return p11.C_CopyObject(s, h as Buffer, [{ type: ck.CKA_TOKEN, value: false }]);
    };
    const kek = find('kmipd-kek-v1');
    const mac = find('kmipd-kek-mac-v1');
    const { pm, b } = at(0);
    const data = macInput(b, 1, pm.wrapped);
    const { wrappedKey } = decodeEnvelope(pm.wrapped);
    const tmpl = readableSessionKeyTemplate();
    const M = Math.min(N, 20000);
    const time = (what: string, fn: () => void) => {
      for (let i = 0; i < 500; i++) fn();
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < M; i++) fn();
      report(what, M, process.hrtime.bigint() - t0, process.cpuUsage(c0));
    };
    time('macInput (JS)', () => macInput(b, 1, pm.wrapped));
    time('C_VerifyInit + C_Verify (HMAC-SHA256)', () => {
      p11.C_VerifyInit(s, MAC_MECHANISM, mac);
      p11.C_Verify(s, data, pm.mac);
    });
    time('C_SignInit + C_Sign (HMAC-SHA256)', () => {
      p11.C_SignInit(s, MAC_MECHANISM, mac);
      p11.C_Sign(s, data, Buffer.alloc(32));
    });
    time('C_UnwrapKey + C_DestroyObject', () => {
      const h = p11.C_UnwrapKey(s, WRAP_MECHANISM, kek, wrappedKey, tmpl);
      p11.C_DestroyObject(s, h);
    });
    const h = p11.C_UnwrapKey(s, WRAP_MECHANISM, kek, wrappedKey, tmpl);
    time('C_GetAttributeValue CKA_VALUE', () => {
      p11.C_GetAttributeValue(s, h, [{ type: ck.CKA_VALUE }]);
    });
    const pub = tmpl.map((a) => (a.type === ck.CKA_PRIVATE ? { type: ck.CKA_PRIVATE, value: false } : a));
    time('C_UnwrapKey + C_DestroyObject, CKA_PRIVATE=false', () => {
      p11.C_DestroyObject(s, p11.C_UnwrapKey(s, WRAP_MECHANISM, kek, wrappedKey, pub));
    });
    const hp = p11.C_UnwrapKey(s, WRAP_MECHANISM, kek, wrappedKey, pub);
    time('C_GetAttributeValue CKA_VALUE, CKA_PRIVATE=false', () => {
      p11.C_GetAttributeValue(s, hp, [{ type: ck.CKA_VALUE }]);
    });
    p11.C_DestroyObject(s, hp);
    time('C_GetSessionInfo (call floor)', () => {
      p11.C_GetSessionInfo(s);
    });
    p11.C_DestroyObject(s, h);
    p11.C_CloseSession(s);
    detachModule(m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
