import type { Command } from 'commander';
import type { GatewayCommandOptions } from '../gateway';
import { examples, httpUrl, milliseconds, portNumber, positiveInt } from './options';

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description(
      'run the diffusion gateway: one HTTP API (POST /v1/generate) in front of a local, Replicate, A1111, ComfyUI or Cog backend',
    )
    .option('-c, --config <file>', 'JSON config file (or GATEWAY_CONFIG); flags and GATEWAY_* env vars override it')
    .option('--host <host>', 'address to bind (or GATEWAY_HOST; default 127.0.0.1; other hosts need --api-keys)')
    .option('--port <n>', 'port (or GATEWAY_PORT; default 8080; 0 = a free port)', portNumber)
    .option('--backend <name>', 'local | replicate | automatic1111 | comfyui | cog (or GATEWAY_BACKEND; default local)')
    .option('--backend-url <url>', 'where the A1111, ComfyUI or Cog server is (or GATEWAY_BACKEND_URL)', httpUrl)
    .option('--model <name>', 'Replicate owner/name[:version], or the label of a Cog model (or GATEWAY_BACKEND_MODEL)')
    .option('--api-keys <keys>', 'keys clients send as Bearer tokens: env:NAME reads them from a variable (or GATEWAY_API_KEYS)')
    .option('--concurrency <n>', 'renders at once on the backend (or GATEWAY_CONCURRENCY; default 2)', positiveInt)
    .option('--timeout <ms>', 'whole request, queue included (or GATEWAY_TIMEOUT_MS; default 120000)', milliseconds)
    .option('--check', 'validate the configuration, print it as JSON (keys hidden) and exit')
    .addHelpText(
      'after',
      examples(
        'aigc gateway                                            # local procedural backend on 127.0.0.1:8080',
        'aigc gateway --backend automatic1111 --backend-url http://gpu:7860 --api-keys env:GATEWAY_KEYS --host 0.0.0.0',
        'REPLICATE_API_TOKEN=r8_… aigc gateway --backend replicate --model black-forest-labs/flux-schnell',
        'aigc gateway --config gateway.json --check',
      ) +
        '\n\nEvery setting has a GATEWAY_* variable (docs/operator.md lists them). The node reaches the gateway with' +
        '\nAIGC_GATEWAY_URL and AIGC_GATEWAY_API_KEY (one of the keys). Exit codes: 0 stopped; 2 invalid settings.',
    )
    .action(async (opts: GatewayCommandOptions) => {
      const { gatewayCommand } = await import('../gateway');
      await gatewayCommand(opts);
    });
}
