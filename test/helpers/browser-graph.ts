import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/** What a browser bundle of `entry` would contain, resolved the way bundlers do for `platform: 'browser'`. */
export type BrowserGraph = {
  /** Every file reached (absolute paths). */
  files: string[];
  /** Node built-ins the graph asks for, with the file that asks: a browser bundle cannot resolve them. */
  builtins: { spec: string; from: string }[];
  /** npm packages reached. */
  packages: string[];
};

const CONDITIONS = ['browser', 'require', 'default'];
const BUILTINS = new Set(builtinModules);

/**
 * Follows the static `require()` calls of compiled CommonJS from `entry` (a stand-in for esbuild, which this
 * repository does not install): packages through their `exports` with the browser conditions, and every file
 * through the `browser` field of its nearest package.json (how ethers swaps in its browser crypto). Dynamic
 * imports compile to `require()` too, so they are followed, as a bundler would.
 */
export function browserGraph(entry: string): BrowserGraph {
  const seen = new Set<string>();
  const builtins: BrowserGraph['builtins'] = [];
  const packages = new Set<string>();
  const queue = [path.resolve(entry)];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.js') && !file.endsWith('.cjs')) continue;
    for (const spec of requiresOf(fs.readFileSync(file, 'utf8'))) {
      if (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0])) {
        builtins.push({ spec, from: file });
        continue;
      }
      const resolved = spec.startsWith('.') ? resolveFile(path.resolve(path.dirname(file), spec)) : resolvePackage(spec, file, packages);
      if (resolved === false) continue; // mapped to an empty module
      if (!resolved) throw new Error(`cannot resolve "${spec}" from ${file}`);
      const mapped = browserMapped(resolved);
      if (mapped) queue.push(mapped);
    }
  }
  return { files: [...seen], builtins, packages: [...packages].sort() };
}

function requiresOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  return [...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
}

function resolveFile(base: string): string | undefined {
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')])
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  return undefined;
}

type PackageJson = { name?: string; main?: string; exports?: unknown; browser?: string | Record<string, string | false> };

function readPackage(dir: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

function resolvePackage(spec: string, from: string, packages: Set<string>): string | false | undefined {
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const subpath = `.${spec.slice(name.length)}`;
  let dir = path.dirname(from);
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) {
      packages.add(name);
      const pkg = readPackage(candidate);
      if (pkg.exports !== undefined) {
        const target = exportTarget(pkg.exports, subpath);
        return target ? resolveFile(path.join(candidate, target)) : undefined;
      }
      if (subpath !== '.') return resolveFile(path.join(candidate, subpath));
      const main = typeof pkg.browser === 'string' ? pkg.browser : (pkg.main ?? 'index.js');
      return resolveFile(path.join(candidate, main));
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function exportTarget(exports: unknown, subpath: string): string | undefined {
  const isMap = typeof exports === 'object' && exports !== null && Object.keys(exports).some((k) => k.startsWith('.'));
  const entry = isMap ? (exports as Record<string, unknown>)[subpath] : subpath === '.' ? exports : undefined;
  return pickCondition(entry);
}

function pickCondition(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(pickCondition).find(Boolean);
  if (typeof value === 'object' && value !== null)
    for (const [key, target] of Object.entries(value)) if (CONDITIONS.includes(key)) return pickCondition(target);
  return undefined;
}

/** `file` after the `browser` field of its nearest package.json; undefined when mapped to nothing. */
function browserMapped(file: string): string | undefined {
  let dir = path.dirname(file);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return file;
    dir = parent;
  }
  const map = readPackage(dir).browser;
  if (!map || typeof map === 'string') return file;
  for (const [from, to] of Object.entries(map)) {
    if (path.resolve(dir, from) !== file) continue;
    return to === false ? undefined : path.resolve(dir, to);
  }
  return file;
}
