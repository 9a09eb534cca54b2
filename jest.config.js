/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': 'ts-jest' };

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/property/**/*.test.ts', '<rootDir>/test/golden/**/*.test.ts'],
    },
    {
      // Real broker and registry: KAFKA_BROKERS + SCHEMA_REGISTRY_URL if set, else testcontainers if a
      // Docker engine answers, else the local Kafka + Apicurio from test/broker (see README.md).
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
    {
      // The secured local cluster (SASL_SSL + SCRAM-SHA-512, TLS from a CA made for the run, ACLs;
      // the registry over HTTPS with basic auth), always started by test/broker: see README.md,
      // "Running on a secured cluster". `npm run test:security` runs this project alone.
      displayName: 'security',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/security/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/secured-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/secured-global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
    {
      // Clients nobody here wrote (Debian's kcat, confluent-kafka-python from PyPI) against the same
      // real broker and registry: `npm run test:interop`, which .ci/run runs after `npm test`.
      displayName: 'interop',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/interop/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
  ],
};
