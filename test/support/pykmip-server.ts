// The PyKMIP reference server for interop tests: the launcher lives in src/bench/pykmip-server.ts,
// where the benchmark comparison (npm run bench:compare) uses it too.
export * from '../../src/bench/pykmip-server.js';
