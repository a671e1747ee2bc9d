/**
 * What both entries of the client export besides `createClient` (`./index` for Node.js, `./browser` for bundlers):
 * the actions' types, the errors and the request type. Only type exports and browser-safe values belong here.
 */
export type { AigcClient } from './create-client';
export type { ClientConfig, ClientContext } from './types';
export { MintFailedError, type MintOutcome } from './errors';
export type { RequestMintParameters, RequestMintReturnType } from './request-mint';
export type { MintStatusUpdate, WaitForMintParameters, WaitForMintReturnType } from './wait-for-mint';
export type { MintAndWaitParameters, MintAndWaitReturnType } from './mint-and-wait';
export type { GetTokenReturnType } from './get-token';
export type { VerifyTokenParameters, VerifyTokenReturnType } from './verify-token';
export type { QuoteParameters, QuoteReturnType } from './quote';
export type { MintRequest } from '../chain/request';
export { AigcError, type ErrorCode } from '../errors';
