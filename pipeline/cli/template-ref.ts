import fs from 'node:fs';
import path from 'node:path';
import { AigcError } from '../errors';
import { templatesDir } from '../template';

/**
 * What `--template` names, as `loadTemplate` takes it: a shipped template's name as it is, else the path of a
 * collection.json (given as the file, or as the folder that holds it), absolute so it is never joined to the
 * templates folder. A bare word that is no shipped template but a folder here with a collection.json is that folder.
 *
 * @example
 * resolveTemplateRef('open-prompt')         // 'open-prompt'
 * resolveTemplateRef('./my-collection') // '/home/me/my-collection/collection.json'
 */
export function resolveTemplateRef(ref: string): string {
  if (ref.endsWith('.json')) return path.resolve(ref);
  const inFolder = path.resolve(ref, 'collection.json');
  const looksLikePath = /[/\\]/.test(ref) || ref.startsWith('.');
  const shipped = !looksLikePath && fs.existsSync(path.join(templatesDir(), ref, 'collection.json'));
  if (shipped) return ref;
  if (fs.existsSync(inFolder)) return inFolder;
  if (looksLikePath)
    throw new AigcError(
      'TEMPLATE_INVALID',
      `no collection.json in ${path.resolve(ref)}: pass a template name, a collection.json or its folder`,
    );
  return ref; // an unknown name: loadTemplate says so
}
