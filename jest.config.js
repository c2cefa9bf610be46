/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // each file transpiled on its own (no type-check in jest: tsc and lint do that); ts-jest takes
  // isolatedModules from tsconfig.json (its own option of that name is deprecated)
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/build/'],
};
