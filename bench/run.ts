#!/usr/bin/env node
import { benchGateway } from './gateway';

/** Benchmarks by name: `npm run bench -- gateway`. Each prints one JSON line on stdout. */
const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  gateway: benchGateway,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  if (!names.length || names.some((n) => !BENCHES[n])) {
    console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`);
    process.exit(2);
  }
  for (const name of names) console.log(JSON.stringify(await BENCHES[name]()));
  process.exit(0);
}

void main();
