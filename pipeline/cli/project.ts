import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AigcError } from '../errors';

// What a collection folder remembers between commands: the running local stack (`.aigc/dev.json`, written by
// `aigc dev`) and the collections deployed from it (`deployments/<chainId>.json`, written by `aigc deploy`).
// Every command reads its defaults from here, so that inside a collection folder no --rpc/--collection is needed.

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/);

const devAccountSchema = z.strictObject({
  /** deployer: owns the collection; operator: its signer; collector: anyone else, funded. */
  role: z.enum(['deployer', 'operator', 'collector']),
  address,
  privateKey,
});
export type DevAccount = z.infer<typeof devAccountSchema>;

export const devStateSchema = z.strictObject({
  rpcUrl: z.string().url(),
  chainId: z.number().int().positive(),
  collection: address,
  factory: address,
  /** Block the collection was created in: where event searches start. */
  startBlock: z.number().int().min(0),
  arweaveUrl: z.string().url(),
  gatewayUrl: z.string().url(),
  nodeUrl: z.string().url(),
  mintPageUrl: z.string().url().optional(),
  redisUrl: z.string(),
  accounts: z.array(devAccountSchema),
  /** The `aigc dev` process: the file is stale once it is gone. */
  pid: z.number().int().positive(),
});
export type DevState = z.infer<typeof devStateSchema>;

export const deploymentSchema = z.strictObject({
  chainId: z.number().int().positive(),
  collection: address,
  factory: address,
  implementation: address.optional(),
  /** Block the collection was created in. */
  blockNumber: z.number().int().min(0),
  owner: address,
  signer: address,
  payee: address,
  contractURI: z.string().optional(),
  rpcUrl: z.string().url().optional(),
  arweaveUrl: z.string().url().optional(),
  nodeUrl: z.string().url().optional(),
  deployedAt: z.string(),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export const devStatePath = (dir = process.cwd()) => path.join(dir, '.aigc', 'dev.json');
export const deploymentPath = (chainId: number, dir = process.cwd()) => path.join(dir, 'deployments', `${chainId}.json`);

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new AigcError('CONFIG_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new AigcError('CONFIG_INVALID', `${file}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  return parsed.data;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The running `aigc dev` stack of this folder, or undefined (no file, or its process has ended). */
export function readDevState(dir = process.cwd()): DevState | undefined {
  const file = devStatePath(dir);
  if (!fs.existsSync(file)) return undefined;
  const state = readJson(file, devStateSchema);
  return alive(state.pid) ? state : undefined;
}

export function writeDevState(state: DevState, dir = process.cwd()): string {
  const file = devStatePath(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** Every `deployments/<chainId>.json` of the folder. */
export function readDeployments(dir = process.cwd()): Deployment[] {
  const folder = path.join(dir, 'deployments');
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => readJson(path.join(folder, f), deploymentSchema));
}

export function writeDeployment(deployment: Deployment, dir = process.cwd()): string {
  const file = deploymentPath(deployment.chainId, dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(deploymentSchema.parse(deployment), null, 2)}\n`);
  return file;
}

/** `collection.json` of the folder, when there is one. */
export function collectionFilePath(dir = process.cwd()): string | undefined {
  const file = path.join(dir, 'collection.json');
  return fs.existsSync(file) ? file : undefined;
}
