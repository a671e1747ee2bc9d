import type { Contract } from 'ethers';
import type { abi } from './artifacts/AIGCCollection';

/**
 * Types of the collection's view functions, read from the ABI the contracts build emits (`as const`), so a call's
 * arguments and result are checked by the compiler instead of cast at each call site.
 */
type Abi = typeof abi;
type AbiParam = { readonly type: string; readonly components?: readonly AbiParam[]; readonly name?: string };

/** A Solidity type as ethers decodes it. */
type Decoded<P extends AbiParam> = P['type'] extends `uint${string}` | `int${string}`
  ? bigint
  : P['type'] extends 'bool'
    ? boolean
    : P['type'] extends 'tuple'
      ? { readonly [C in NonNullable<P['components']>[number] as C['name'] & string]: Decoded<C> }
      : string;

/** A Solidity type as ethers accepts it in a call (integers as bigint, number or decimal string). */
type Encodable<P extends AbiParam> = P['type'] extends `uint${string}` | `int${string}`
  ? bigint | number | string
  : P['type'] extends 'bool'
    ? boolean
    : P['type'] extends 'tuple'
      ? { readonly [C in NonNullable<P['components']>[number] as C['name'] & string]: Encodable<C> }
      : string;

type Params<T extends readonly AbiParam[], M extends 'in' | 'out'> = {
  -readonly [K in keyof T]: M extends 'in' ? Encodable<T[K]> : Decoded<T[K]>;
};

type ViewFunction = Extract<Abi[number], { readonly type: 'function'; readonly stateMutability: 'view' | 'pure' }>;
type Result<F extends ViewFunction> = F['outputs'] extends readonly [infer Only extends AbiParam]
  ? Decoded<Only>
  : Params<F['outputs'], 'out'>;

/** The collection's view functions, typed. */
export type CollectionReads = {
  [F in ViewFunction as F['name']]: (...args: Params<F['inputs'], 'in'>) => Promise<Result<F>>;
};

/**
 * Typed view calls on an AIGCCollection bound with `connectCollection`.
 *
 * @example
 * const reads = collectionReads(contract);
 * const pending: boolean = await reads.isPending(id, requestStruct(request));
 */
export function collectionReads(contract: Contract): CollectionReads {
  return new Proxy({} as CollectionReads, {
    get:
      (_, name: string) =>
      (...args: unknown[]) =>
        contract.getFunction(name).staticCall(...args),
  });
}
