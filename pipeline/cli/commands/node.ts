import type { Command } from 'commander';

export function registerNode(program: Command): void {
  program
    .command('node')
    .description('run the operator node against configured chain, Redis, gateway and Arweave')
    .option('-c, --config <file>', 'JSON config file (env vars override it)')
    .option('--workers-only', 'render only: never lead (no listener, no chain writes)')
    .addHelpText(
      'after',
      '\nExample:\n  $ AIGC_RPC_URL=http://127.0.0.1:8545 AIGC_COLLECTION=0x… AIGC_SIGNER_KEY=0x… \\\n' +
        '    AIGC_GATEWAY_URL=http://127.0.0.1:8080 AIGC_ARWEAVE_URL=http://127.0.0.1:1984 \\\n' +
        '    AIGC_ARWEAVE_WALLET=wallet.json REDIS_URL=redis://127.0.0.1:6379 aigc node',
    )
    .action(async (opts: { config?: string; workersOnly?: boolean }) => {
      const { loadConfig } = await import('../../config');
      const config = loadConfig({ file: opts.config });
      const { startNode } = await import('../../node');
      const node = await startNode({ config, listen: !opts.workersOnly });
      const served = node.collections.map((c) => `${c.address} (${c.template.name}) on chain ${c.chainId}`).join(', ');
      console.log(`node running for ${served}; metrics at ${node.httpUrl ?? 'off'}/metrics; Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.log('stopping: finishing in-flight jobs…');
      await node.stop();
    });
}
