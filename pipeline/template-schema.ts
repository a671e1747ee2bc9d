import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { collectionTemplateSchema } from './template';

/** Where the repository keeps the generated schema: `templates/collection.schema.json` (from sources or dist/). */
export function repoSchemaPath(): string {
  const fromSource = path.resolve(__dirname, '..', 'templates');
  const dir = fs.existsSync(fromSource) ? fromSource : path.resolve(__dirname, '..', '..', 'templates');
  return path.join(dir, 'collection.schema.json');
}

/**
 * The JSON Schema of `collection.json`, generated from the zod schema `loadTemplate` validates with, so the two
 * cannot disagree. Input side: keys with defaults (promptPrefix…) are optional, as a creator writes them.
 */
export function collectionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(collectionTemplateSchema, { io: 'input' }) as Record<string, unknown>;
  return { ...schema, title: 'aigc collection.json', description: 'A collection template of aigc (templates/collections/<name>/).' };
}

/** The schema as written to disk: two-space JSON with a final newline. */
export function collectionJsonSchemaText(): string {
  return `${JSON.stringify(collectionJsonSchema(), null, 2)}\n`;
}

/** Writes the schema to `file` (default: the repository's `templates/collection.schema.json`); returns the path. */
export function writeCollectionJsonSchema(file = repoSchemaPath()): string {
  fs.writeFileSync(file, collectionJsonSchemaText());
  return file;
}
