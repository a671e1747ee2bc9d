#!/usr/bin/env node
/**
 * Regenerates templates/collection.schema.json from the zod schema of collection.json (pipeline/template.ts), so
 * editors autocomplete and check collection files; formatted with the repository's Prettier settings.
 * test/integration/cli-init.test.ts fails when the checked-in file is stale.
 *
 * Usage: npm run build && npm run build:schema
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const prettier = require('prettier');
const { collectionJsonSchemaText, repoSchemaPath } = require(path.resolve(__dirname, '..', 'dist', 'pipeline', 'template-schema.js'));

async function main() {
  const file = repoSchemaPath();
  const options = (await prettier.resolveConfig(file)) ?? {};
  fs.writeFileSync(file, await prettier.format(collectionJsonSchemaText(), { ...options, filepath: file }));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
