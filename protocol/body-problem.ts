/**
 * What to fix in a JSON body that body-parser refused, by its error type: the node's API and the gateway answer it
 * the same way, as `fields.body` of a 400.
 *
 * @example
 * bodyProblem({ type: 'entity.too.large', limit: 65536, length: 70000 }) // '70000 bytes; at most 65536 bytes of JSON'
 */
export function bodyProblem(error: unknown): string {
  const { type, limit, length } = error as { type?: string; limit?: number; length?: number };
  if (type === 'entity.too.large') return `${length ?? 'more than'} bytes; at most ${limit} bytes of JSON`;
  if (type === 'entity.parse.failed') return 'not valid JSON';
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return 'send UTF-8 JSON';
  return (error as Error).message;
}
