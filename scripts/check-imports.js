#!/usr/bin/env node
/**
 * Checks that dependencies point one way:
 * (a) no file imports itself through a circle of files;
 * (b) no circle between folders, with each package's top-level files counted as nodes of their own (pipeline/config.ts
 *     is "pipeline/config", pipeline/chain/*.ts are "pipeline/chain"), so low-level root files can sit under folders
 *     and the node's wiring files above them;
 * (c) the gateway (services/) imports nothing from the node (pipeline/), and protocol/ imports only itself;
 * (d) the node's low-level root files (errors, logger, version, template, metrics) import only each other and protocol/.
 *
 * Usage: node scripts/check-imports.js   (exits 1 and names every offence)
 */
'use strict';
const path = require('node:path');
const madge = require('madge');

const ROOT = path.resolve(__dirname, '..');
const SOURCES = ['protocol', 'pipeline', 'services'];
/** Root files of pipeline/ that everything may use, so they may use nothing above them. */
const LOW_LEVEL = new Set(['pipeline/errors', 'pipeline/logger', 'pipeline/version', 'pipeline/template', 'pipeline/metrics', 'protocol']);

/** Directories whose direct files are nodes of their own and whose sub-folders are one node each. */
function packageRoot(file) {
  const parts = file.split('/');
  if (parts[0] === 'services' && parts.length > 2) return parts.slice(0, 2).join('/');
  return parts[0];
}

/** The node of the folder graph a file belongs to. */
function nodeOf(file) {
  if (file.startsWith('protocol/')) return 'protocol';
  const root = packageRoot(file);
  const rest = file.slice(root.length + 1).split('/');
  if (rest.length === 1) return `${root}/${rest[0].replace(/\.ts$/, '')}`;
  return `${root}/${rest[0]}/`;
}

/** Every elementary cycle through the graph's strongly connected parts, each as a list of nodes (Tarjan + a DFS per part). */
function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const parts = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const part = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        part.push(w);
      } while (w !== v);
      if (part.length > 1 || (graph.get(v) ?? new Set()).has(v)) parts.push(part);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  // One shortest cycle per node of each part is enough to show what to untangle.
  const found = new Map();
  for (const part of parts) {
    const inPart = new Set(part);
    for (const start of part) {
      const prev = new Map([[start, null]]);
      const queue = [start];
      let end;
      while (queue.length && end === undefined) {
        const v = queue.shift();
        for (const w of graph.get(v) ?? []) {
          if (!inPart.has(w)) continue;
          if (w === start) {
            end = v;
            break;
          }
          if (!prev.has(w)) {
            prev.set(w, v);
            queue.push(w);
          }
        }
      }
      if (end === undefined) continue;
      const cycle = [];
      for (let v = end; v !== null; v = prev.get(v)) cycle.unshift(v);
      const i = cycle.indexOf([...cycle].sort()[0]);
      const canonical = [...cycle.slice(i), ...cycle.slice(0, i)];
      found.set(canonical.join(' -> '), canonical);
    }
  }
  return [...found.values()];
}

async function main() {
  const started = Date.now();
  const result = await madge(SOURCES, { baseDir: ROOT, fileExtensions: ['ts'], tsConfig: path.join(ROOT, 'tsconfig.json') });
  const files = result.obj();
  const problems = [];

  // (a) file-level circles.
  for (const circle of result.circular()) problems.push(`circular import: ${[...circle, circle[0]].join(' -> ')}`);

  // (c) one-way rules.
  for (const [file, deps] of Object.entries(files)) {
    for (const dep of deps) {
      if (file.startsWith('services/') && dep.startsWith('pipeline/')) problems.push(`the gateway imports the node: ${file} -> ${dep}`);
      if (file.startsWith('protocol/') && !dep.startsWith('protocol/'))
        problems.push(`protocol/ imports outside itself: ${file} -> ${dep}`);
      if (LOW_LEVEL.has(nodeOf(file)) && !LOW_LEVEL.has(nodeOf(dep))) problems.push(`low-level ${nodeOf(file)} imports ${dep}`);
    }
  }

  // (b) folder-level circles.
  const folders = new Map();
  for (const [file, deps] of Object.entries(files)) {
    const from = nodeOf(file);
    if (!folders.has(from)) folders.set(from, new Set());
    for (const dep of deps) {
      const to = nodeOf(dep);
      if (to !== from) folders.get(from).add(to);
    }
  }
  for (const cycle of cycles(folders)) {
    const edges = [];
    for (let i = 0; i < cycle.length; i++) {
      const from = cycle[i];
      const to = cycle[(i + 1) % cycle.length];
      const via = Object.entries(files)
        .flatMap(([file, deps]) => (nodeOf(file) === from ? deps.filter((d) => nodeOf(d) === to).map((d) => `${file} -> ${d}`) : []))
        .slice(0, 3);
      edges.push(`    ${from} -> ${to}  (${via.join(', ')})`);
    }
    problems.push(`folder cycle: ${[...cycle, cycle[0]].join(' -> ')}\n${edges.join('\n')}`);
  }

  if (process.argv.includes('--graph')) {
    for (const [from, to] of [...folders].sort(([a], [b]) => a.localeCompare(b)))
      console.log(`${from} -> ${[...to].sort().join(', ') || '(nothing)'}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length) {
    console.error(problems.join('\n'));
    console.error(`check-imports: ${problems.length} problem(s) in ${Object.keys(files).length} files (${seconds} s)`);
    process.exit(1);
  }
  console.log(`check-imports: ${Object.keys(files).length} files, ${folders.size} folders, no cycles (${seconds} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
