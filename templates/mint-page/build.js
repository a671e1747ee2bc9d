#!/usr/bin/env node
/**
 * Bundles the <aigc-mint> web component into one file, dist/mint-page/embed.js, which the node serves at /embed.js.
 * Not under dist/templates/: code that finds the repository's templates/ from dist/ would look there instead.
 * Run by `npm run build` (after the contracts build, whose ABI the page imports).
 *
 * Usage: node templates/mint-page/build.js [--metafile]   (prints the size, raw and gzipped)
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..', '..');
const outfile = path.join(root, 'dist', 'mint-page', 'embed.js');

async function build() {
  const result = await esbuild.build({
    entryPoints: [path.join(__dirname, 'src', 'embed.ts')],
    outfile,
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = fs.readFileSync(outfile);
  const gzipped = zlib.gzipSync(bytes, { level: 9 }).length;
  return { outfile, bytes: bytes.length, gzipped, metafile: result.metafile };
}

module.exports = { build, outfile };

if (require.main === module) {
  build()
    .then(({ bytes, gzipped, metafile }) => {
      console.log(
        `mint page: ${path.relative(process.cwd(), outfile)} ${(bytes / 1024).toFixed(1)} kB, ${(gzipped / 1024).toFixed(1)} kB gzipped`,
      );
      if (process.argv.includes('--metafile')) console.log(esbuild.analyzeMetafileSync(metafile));
    })
    .catch((error) => {
      console.error(error.message);
      process.exit(1);
    });
}
