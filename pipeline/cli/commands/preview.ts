import type { Command } from 'commander';
import type { PreviewCommandOptions } from '../preview';
import { examples, httpUrl, positiveInt } from './options';

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description("render a prompt with a collection's frame, negative prompt, size and traits, without any chain, to tune the style")
    .argument('[prompt]', "the collector's prompt (a short description for templates with traits; may be empty here)", '')
    .option('-n, --count <n>', 'images to render, each with its own seed (at most 10000)', positiveInt, 1)
    .option('--out <dir>', 'folder the images are written to', '.aigc/preview')
    .option('--template <name|path>', "template name or path to a collection.json (default: this folder's collection.json)")
    .option(
      '--gateway <url>',
      "diffusion gateway (or AIGC_GATEWAY_URL; default: the folder's aigc dev stack, else the local renderer in-process)",
      httpUrl,
    )
    .option('--seed <hex>', 'base seed (0x-hex, ≤ 32 bytes): image 1 renders it, image i keccak256(seed, i-1); default random')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      examples(
        'aigc preview "a lighthouse at dusk" --template open-prompt --count 4',
        'aigc preview "smiling" --template avatar --count 100        # also reports trait odds',
        'aigc preview "" --seed 0x5eed --count 3 --json              # inside a collection folder',
        'aigc preview "a fox" --gateway http://127.0.0.1:8080 --out /tmp/fox',
      ) +
        '\n\nThe file names carry each render seed: passing a token’s render seed (aigc.renderSeed of its manifest) as --seed\nreproduces its traits and, with a deterministic backend and the same prompt, its picture.',
    )
    .action(async (prompt: string, opts: PreviewCommandOptions) => {
      const { previewCommand } = await import('../preview');
      await previewCommand(prompt, opts);
    });
}
