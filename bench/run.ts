#!/usr/bin/env node
import { run as gas } from './gas';
import { benchGateway } from './gateway';
import { run as pipeline } from './pipeline';

/**
 * `npm run bench -- [name …]`: runs the named benchmarks (all when none is named); each prints one JSON line on
 * stdout. Benchmarks measure; they do not pass or fail on a number.
 */
const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = { gas, gateway: benchGateway, pipeline };

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    console.error(`error: unknown benchmark ${unknown.join(', ')}; available: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(BENCHES)) console.log(JSON.stringify(await BENCHES[name]()));
  process.exit(0);
}

main().catch((error) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
