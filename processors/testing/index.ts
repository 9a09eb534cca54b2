/**
 * Testing a topology with no broker: `TopologyTestDriver` runs a topology's processors (the same
 * task core, codecs and RocksDB store as production) over topics and a schema registry in memory.
 * Import it from your own tests (`graphfold/dist/processors/testing`), with jest or `node:test`.
 */
export {
  TopologyTestDriver,
  type DiffRecord,
  type DriverRecord,
  type DriverTopologyInput,
  type InputTopicRecord,
  type PipedOutcome,
  type PipeOptions,
  type RejectionRecord,
  type RestartReport,
  type TestRecord,
  type TopologyTestDriverOptions,
} from './topology-test-driver';
export { InMemorySchemaRegistry } from './in-memory-schema-registry';
export type { TopicRecord } from './memory-topic';
export type { RecordOutcome } from '../task/task-core';
export type { GraphReads } from '../query/reads';
export type { GraphStore } from '../store/graph-store';
export type { GraphDiff, GraphTransaction, Instruction } from '../engine/model';
