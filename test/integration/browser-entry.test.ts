import path from 'node:path';
import { browserGraph } from '../helpers/browser-graph';

// The client's browser entry, as a bundler targeting browsers resolves it from the built package: no Node built-in
// may be reachable (a bundle for `platform: 'browser'` fails on one), and nothing of the Node-only verification.
const dist = path.resolve(__dirname, '..', '..', 'dist', 'pipeline', 'sdk');

test('the browser entry reaches no Node built-in and no Node-only module', () => {
  const graph = browserGraph(path.join(dist, 'browser.js'));
  expect(graph.builtins).toEqual([]);
  const ours = graph.files.filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`)).map((f) => path.relative(dist, f));
  expect(ours).toContain('create-client.js');
  expect(ours.filter((f) => /provenance|storage[/\\]arweave|verify-token/.test(f))).toEqual([]);
  // ethers' own browser builds (its crypto, WebSocket and fetch) are what gets bundled.
  expect(graph.packages).toContain('ethers');
  expect(graph.files.some((f) => f.endsWith(path.join('ethers', 'lib.commonjs', 'crypto', 'crypto-browser.js')))).toBe(true);
  expect(graph.files.some((f) => f.endsWith(path.join('ethers', 'lib.commonjs', 'crypto', 'crypto.js')))).toBe(false);
});

test('the Node entry does reach Node built-ins, through verifyToken (the check above can fail)', () => {
  const graph = browserGraph(path.join(dist, 'index.js'));
  expect(graph.builtins.map((b) => b.spec)).toContain('node:crypto');
  expect(graph.builtins.some((b) => b.from.includes(path.join('provenance', 'verify')))).toBe(true);
});
