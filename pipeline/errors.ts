export * from '../protocol/errors';
