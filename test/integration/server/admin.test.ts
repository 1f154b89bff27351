// The admin HTTP listener (/healthz, /metrics in Prometheus text format 0.0.4) next to a live KMIP
// listener, and the observability pieces it exposes: metric rendering and log redaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { HealthRegistry, startAdminServer } from '../../../src/admin/http.js';
import type { AdminServer } from '../../../src/admin/http.js';
import { createLogger } from '../../../src/observability/log.js';
import { MetricsRegistry } from '../../../src/observability/metrics.js';
import { echoExecutor } from '../../support/test-executors.js';
import { attempt, startTestServer, waitFor } from '../../support/kmip-test-server.js';
import type { TestServer } from '../../support/kmip-test-server.js';
import { makeTestPki } from '../../support/test-pki.js';
import type { TestPki } from '../../support/test-pki.js';
import { testMessage } from '../../support/ttlv-messages.js';

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(port: number, path: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let pki: TestPki;
let t: TestServer;
let admin: AdminServer;
let health: HealthRegistry;
let storeOk = true;

beforeAll(async () => {
  pki = makeTestPki();
  t = await startTestServer({ pki, executor: echoExecutor() });
  health = new HealthRegistry();
  health.register('kmip_listener', () => ({ ok: !t.server.draining }));
  health.register('store', async () => (storeOk ? { ok: true } : { ok: false, detail: 'database locked' }));
  admin = await startAdminServer({ host: '127.0.0.1', port: 0, metrics: t.metrics, health, log: t.log });
});
afterAll(async () => {
  await admin.close();
  await t.close();
  pki.cleanup();
});

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('admin listener', () => {
  it('reports health as JSON, 200 when every check passes and 503 when one fails', async () => {
    const ok = await http(admin.address.port, '/healthz');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ok.body)).toEqual({ status: 'ok', checks: { kmip_listener: { ok: true }, store: { ok: true } } });

    storeOk = false;
    const bad = await http(admin.address.port, '/healthz');
    storeOk = true;
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body)).toMatchObject({ status: 'degraded', checks: { store: { ok: false, detail: 'database locked' } } });
  });

  it('serves metrics that count connections and handshake failures', async () => {
    const before = await http(admin.address.port, '/metrics');
    expect(before.status).toBe(200);
    expect(before.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sample(before.body, 'kmipd_connections_total')).toBe(0);
    expect(before.body).toContain('# TYPE kmipd_connections_open gauge');

    const c = await t.client();
    await c.send(testMessage(8));
    const during = (await http(admin.address.port, '/metrics')).body;
    expect(sample(during, 'kmipd_connections_open')).toBe(1);
    expect(sample(during, 'kmipd_connections_total')).toBe(1);
    await c.close();

    expect((await attempt(t.port, pki, {}, testMessage(8))).answered).toBe(false);
    await waitFor(() => t.server.connections === 0);
    const after = (await http(admin.address.port, '/metrics')).body;
    expect(sample(after, 'kmipd_connections_open')).toBe(0);
    expect(sample(after, 'kmipd_connections_total')).toBe(2);
    expect(sample(after, 'kmipd_tls_handshake_failures_total{reason="no_client_cert"}')).toBe(1);
    expect(sample(after, 'kmipd_connections_closed_total{reason="peer_closed"}')).toBe(1);
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await http(admin.address.port, '/')).status).toBe(404);
    expect((await http(admin.address.port, '/metrics/x')).status).toBe(404);
    const post = await http(admin.address.port, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    expect((await http(admin.address.port, '/healthz', 'DELETE')).status).toBe(405);
    const head = await http(admin.address.port, '/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });
});

describe('metrics registry', () => {
  it('renders labelled counters, gauges and fixed-bucket histograms in text format 0.0.4', () => {
    const r = new MetricsRegistry();
    const requests = r.counter({ name: 'kmipd_requests_total', help: 'Batch items.', labelNames: ['operation', 'result'] });
    const duration = r.histogram({ name: 'kmipd_request_duration_seconds', help: 'Latency.', labelNames: ['operation'], buckets: [0.01, 0.1, 1] });
    const g = r.gauge({ name: 'kmipd_things', help: 'Line one\nline "two" \\ three' });
    requests.inc({ operation: 'Get', result: 'Success' });
    requests.inc({ operation: 'Get', result: 'Success' }, 2);
    requests.inc({ operation: 'Create', result: 'Operation "Failed"\n' });
    requests.inc({ operation: 'Locate', result: 'back\\slash' });
    duration.observe({ operation: 'Get' }, 0.005);
    duration.observe({ operation: 'Get' }, 0.1); // on a bound: counted in that bucket (le)
    duration.observe({ operation: 'Get' }, 3);
    g.set(7);
    g.dec(2);
    expect(r.render()).toBe(
      [
        '# HELP kmipd_requests_total Batch items.',
        '# TYPE kmipd_requests_total counter',
        'kmipd_requests_total{operation="Get",result="Success"} 3',
        'kmipd_requests_total{operation="Create",result="Operation \\"Failed\\"\\n"} 1',
        'kmipd_requests_total{operation="Locate",result="back\\\\slash"} 1',
        '# HELP kmipd_request_duration_seconds Latency.',
        '# TYPE kmipd_request_duration_seconds histogram',
        'kmipd_request_duration_seconds_bucket{operation="Get",le="0.01"} 1',
        'kmipd_request_duration_seconds_bucket{operation="Get",le="0.1"} 2',
        'kmipd_request_duration_seconds_bucket{operation="Get",le="1"} 2',
        'kmipd_request_duration_seconds_bucket{operation="Get",le="+Inf"} 3',
        'kmipd_request_duration_seconds_sum{operation="Get"} 3.105',
        'kmipd_request_duration_seconds_count{operation="Get"} 3',
        '# HELP kmipd_things Line one\\nline "two" \\\\ three',
        '# TYPE kmipd_things gauge',
        'kmipd_things 5',
        '',
      ].join('\n'),
    );
  });

  it('refuses duplicate names, decreasing counters and missing labels', () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: 'a_total', help: 'a', labelNames: ['x'] });
    expect(() => r.counter({ name: 'a_total', help: 'again' })).toThrow(/already registered/);
    expect(() => c.inc({ x: 'y' }, -1)).toThrow(/cannot decrease/);
    expect(() => c.inc({} as { x: string })).toThrow(/missing label "x"/);
    expect(() => r.histogram({ name: 'h', help: 'h', buckets: [1, 1] })).toThrow(/strictly increasing/);
  });

  it('a counter mirrors a total counted elsewhere at each render, and never goes down', () => {
    const r = new MetricsRegistry();
    const source = { hit: 0, miss: 0 };
    r.counter({
      name: 'lookups_total',
      help: 'l',
      labelNames: ['result'] as const,
      collect: (c) => {
        c.mirror({ result: 'hit' }, source.hit);
        c.mirror({ result: 'miss' }, source.miss);
      },
    });
    source.hit = 5;
    source.miss = 2;
    expect(r.render()).toContain('lookups_total{result="hit"} 5\nlookups_total{result="miss"} 2\n');
    source.hit = 7;
    source.miss = 1; // a source that reset: the counter keeps its total
    expect(r.render()).toContain('lookups_total{result="hit"} 7\nlookups_total{result="miss"} 2\n');
  });
});

describe('log redaction', () => {
  it('censors PINs, passwords and key material wherever they appear in a log object', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } });
    log.info({ pin: '1234', nested: { password: 'hunter2', key: 'secret-key' }, err: { detail: { material: 'abcd' } }, subject: 'CN=x' }, 'hello');
    const text = lines.join('');
    for (const secret of ['1234', 'hunter2', 'secret-key', 'abcd']) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({ pin: '[Redacted]', nested: { password: '[Redacted]', key: '[Redacted]' }, subject: 'CN=x', level: 'info' });
  });
});
