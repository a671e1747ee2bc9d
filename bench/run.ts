#!/usr/bin/env node
/**
 * `npm run bench -- [name …]`: runs bench/<name>.ts (all when none is named); each prints one JSON line.
 * Benchmarks measure; they do not pass or fail on a number.
 */
import fs from 'node:fs';
import path from 'node:path';

async function main(): Promise<void> {
  const available = fs
    .readdirSync(__dirname)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('run.'))
    .map((f) => f.replace(/\.(js|ts)$/, ''));
  const names = process.argv.slice(2);
  for (const name of names) {
    if (!available.includes(name)) {
      console.error(`error: unknown benchmark "${name}"; available: ${available.join(', ')}`);
      process.exit(2);
    }
  }
  for (const name of names.length ? names : available) {
    const mod = (await import(path.join(__dirname, name))) as { run(): Promise<Record<string, unknown>> };
    console.log(JSON.stringify(await mod.run()));
  }
}

main().catch((error) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
