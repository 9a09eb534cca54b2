/**
 * The direction of graphfold's imports, checked by dependency-cruiser (`npm run lint:imports`,
 * part of `npm run lint` and of `npm test`'s unit project: test/unit/architecture). Data flows one
 * way, record -> decode -> fold -> store -> produce, and imports follow it:
 *
 *   engine            the pure model, validation, fold and diff: imports nothing above it
 *   codec             wire formats over the engine's model
 *   store             RocksDB state over the engine's model: knows no task, runtime or Kafka
 *   task              one partition's per-batch logic over records: knows no Kafka, no runtime
 *   runtime           Kafka clients, tasks' transactions, lifecycle, restore: knows no CLI
 *   testing           the TopologyTestDriver: the task core over topics in memory, no Kafka
 *   query, admin, sdk, cli, topology: the edges
 *
 * errors.ts and instrumentation/ are the shared ground every layer may use. Type-only imports
 * count (tsPreCompilationDeps): a type names what a module depends on as surely as a value does.
 */

/** The modules of these folders of processors/. */
const above = (...layers) => `^processors/(${layers.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: the order of their initialisation depends on who is imported first. Cut it along the data flow.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-imports-nothing-above-it',
      comment: 'The engine is the pure core: only the engine itself and errors.ts.',
      severity: 'error',
      from: { path: '^processors/engine/' },
      to: { path: ['^processors/(?!engine/|errors\\.ts$)', '^topology/', '^test/', '^node_modules/'] },
    },
    {
      name: 'codec-is-below-the-store',
      comment: 'Codecs translate between bytes and the engine model; they know no store, task or runtime.',
      severity: 'error',
      from: { path: '^processors/codec/' },
      to: { path: [above('store', 'task', 'runtime', 'query', 'admin', 'sdk', 'cli', 'page'), '^topology/', '^node_modules/(kafkajs|@nxtedition)/'] },
    },
    {
      name: 'store-does-not-import-runtime',
      comment: 'The store is state and its queries; the task and the runtime drive it, never the other way.',
      severity: 'error',
      from: { path: '^processors/store/' },
      to: { path: [above('task', 'runtime', 'query', 'admin', 'sdk', 'cli', 'page'), '^topology/', '^node_modules/kafkajs/'] },
    },
    {
      name: 'task-core-knows-no-kafka',
      comment: "The task core works on records in and outputs out; the runtime's PartitionTask carries them to and from Kafka.",
      severity: 'error',
      from: { path: '^processors/task/' },
      to: { path: [above('runtime', 'query', 'admin', 'sdk', 'cli', 'page'), '^topology/', '^node_modules/(kafkajs|@kafkajs)/'] },
    },
    {
      name: 'test-driver-knows-no-kafka',
      comment: 'The TopologyTestDriver runs the task core with no broker: no Kafka client, no part of the runtime but the compiled topology.',
      severity: 'error',
      from: { path: '^processors/testing/' },
      to: { path: ['^processors/runtime/(?!topology\\.ts$)', above('cli', 'admin', 'sdk'), '^node_modules/(kafkajs|@kafkajs)/'] },
    },
    {
      name: 'runtime-does-not-import-cli',
      comment: 'The CLI is an edge over the runtime; the runtime is also used without it (the SDK, the test driver).',
      severity: 'error',
      from: { path: '^processors/runtime/' },
      to: { path: [above('cli'), '^test/'] },
    },
    {
      name: 'product-does-not-import-tests',
      comment: 'Nothing shipped depends on the test tree.',
      severity: 'error',
      from: { path: '^(processors|topology)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: '^node_modules' },
    exclude: { path: ['^dist/', '^processors/page/web/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
