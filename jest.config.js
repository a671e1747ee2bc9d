// Type checking runs once in `npm run typecheck`; here ts-jest only transpiles, which is much faster.
const project = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
});

/** @type {import('jest').Config} */
module.exports = {
  // unit: no anvil, arlocal or Redis (seconds); contracts: anvil; integration: anvil, arlocal, Redis, whole nodes;
  // browser: the mint page in Chromium (/usr/bin/chromium) against a whole node.
  // Select one with `jest --selectProjects unit` (npm run test:unit, test:contracts, test:integration).
  projects: [project('unit'), project('contracts'), project('integration'), project('browser')],
  testTimeout: 60_000,
  // Integration tests each start their own anvil and arlocal; two workers match this 2-core machine.
  maxWorkers: 2,
};
