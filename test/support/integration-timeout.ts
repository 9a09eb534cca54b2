// Integration tests talk to a real broker and start JVMs; jest's 5 s default is for unit tests.
// (`testTimeout` in a project's config is not applied by jest 30, so it is set here.)
jest.setTimeout(120_000);
