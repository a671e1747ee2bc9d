import { loadConfig } from '../config';
import { AigcError } from '../errors';
import { startNode } from '../node';

export type NodeCommandOptions = { config?: string; workersOnly?: boolean; stopTimeout: number };

/**
 * `aigc node`: starts the node, then waits for SIGINT or SIGTERM and stops it within `stopTimeout` seconds. A stop
 * that hangs (a Redis that went away under a closing worker, a render that does not end) ends in one line naming
 * the part it waited for and a non-zero exit: a supervisor's `stop` never outlives its own timeout. A second signal
 * exits at once.
 */
export async function nodeCommand(opts: NodeCommandOptions): Promise<void> {
  const config = loadConfig({ file: opts.config });
  const node = await startNode({ config, listen: !opts.workersOnly });
  const served = node.collections.map((c) => `${c.address} (${c.template.name}) on chain ${c.chainId}`).join(', ');
  console.log(`node running for ${served}; metrics at ${node.httpUrl ?? 'off'}/metrics; Ctrl-C to stop`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const again = () => {
    console.error(`error: stopped by a second signal while waiting for ${node.stopping ?? 'the node'}`);
    process.exit(130);
  };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  console.log(`${signal}: stopping, finishing in-flight work for up to ${opts.stopTimeout} s…`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new AigcError(
            'TIMEOUT',
            `the node did not stop within ${opts.stopTimeout} s (still waiting for ${node.stopping ?? 'its parts'}): exiting anyway; unfinished jobs are taken up again by the next node`,
          ),
        ),
      opts.stopTimeout * 1_000,
    );
  });
  try {
    await Promise.race([node.stop(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
