import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DIR = path.join(__dirname, '..', 'fixtures', 'hostile');
const read = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as T;

/** One hostile prompt of test/fixtures/hostile/prompts.json, with `repeat` applied. */
export type HostilePrompt = { name: string; prompt: string; why: string };
/** One malformed HTTP request of requests.json. */
export type HostileRequest = {
  name: string;
  door: 'mints' | 'generate' | 'both';
  why: string;
  body?: unknown;
  raw?: string;
  rawJson?: string;
  oversize?: boolean;
  contentType?: string;
  headers?: Record<string, string>;
};
/** One malformed collection.json of configs.json. */
export type HostileConfig = { name: string; why: string; patch?: Record<string, unknown>; raw?: string };
/** One malformed flag value of flags.json: `aigc <args>` (placeholders filled in by the test) and what its error names. */
export type HostileFlag = { name: string; args: string[]; names: string; why: string; env?: Record<string, string> };

export const hostilePrompts: HostilePrompt[] = read<{ prompts: (HostilePrompt & { repeat?: number })[] }>('prompts.json').prompts.map(
  ({ repeat, ...p }) => ({ ...p, prompt: p.prompt.repeat(repeat ?? 1) }),
);
export const hostileRequests: HostileRequest[] = read<{ requests: HostileRequest[] }>('requests.json').requests;
export const hostileConfigs: HostileConfig[] = read<{ configs: HostileConfig[] }>('configs.json').configs;
export const hostileFlags: HostileFlag[] = read<{ flags: HostileFlag[] }>('flags.json').flags;

/** Sends `r` to `url` (a POST route) as the corpus describes it; `oversizeBytes` is the door's body limit plus some. */
export function sendHostile(
  url: string,
  r: HostileRequest,
  { oversizeBytes, headers = {} }: { oversizeBytes: number; headers?: Record<string, string> },
) {
  const body = r.oversize ? JSON.stringify({ prompt: 'x'.repeat(oversizeBytes) }) : (r.raw ?? r.rawJson ?? JSON.stringify(r.body));
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': r.contentType ?? 'application/json', ...headers, ...r.headers },
    body,
  });
}

const merge = (a: unknown, b: unknown): unknown => {
  if (typeof b !== 'object' || b === null || Array.isArray(b) || typeof a !== 'object' || a === null) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
};

/** Writes config `c` (raw, or patched into the open-prompt template) as a collection.json in a new folder; returns its path. */
export function writeHostileConfig(c: HostileConfig, base: object): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigc-hostile-'));
  const file = path.join(dir, 'collection.json');
  fs.writeFileSync(file, c.raw ?? JSON.stringify(merge(base, c.patch)));
  return file;
}
