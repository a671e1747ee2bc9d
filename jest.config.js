/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking runs once in `npm run typecheck`; here ts-jest only transpiles, which is much faster.
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 60_000,
  // Integration tests each start their own anvil and arlocal; two workers match this 2-core machine.
  maxWorkers: 2,
};
