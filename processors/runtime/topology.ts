import { join } from 'node:path';
import type { PartitionerName } from '../codec/partitioner';
import type { GraphSchema } from '../engine/schema';
import type { GraphStoreOptions } from '../store/graph-store';
import type { Secret } from './secret';

/**
 * A compiled topology: what runs, where, with which limits. Produced once, validated and frozen,
 * by `topology/loader.ts` from a topology file (defaults applied, files read, units converted);
 * everything below it takes its settings from here and reads nothing else.
 */
export interface Topology {
  /** Names the consumer groups (`<application>-<processor>`) and transactional ids. */
  readonly application: string;
  readonly kafka: KafkaSpec;
  readonly registry: RegistrySpec;
  readonly store: StoreSpec;
  readonly processors: readonly ProcessorSpec[];
  /** The standalone server of `/metrics`, `/healthz` and `/readyz`, when configured. */
  readonly ops?: { readonly host: string; readonly port: number };
  /** The query API, when this topology serves one. */
  readonly query?: QuerySpec;
  /** Snapshots of the partitions' stores, when configured. */
  readonly snapshots?: SnapshotsSpec;
  /** Read-only followers of diffs topics. */
  readonly followers: readonly FollowerSpec[];
  /** Where the topology came from (a file path), for messages. */
  readonly origin: string;
}

/** The HTTP query API of an instance (see `topology/input.ts`, QueryInput). */
export interface QuerySpec {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /** The base URL others reach this instance at; undefined: derived from the bound address. */
  readonly advertise?: string;
  readonly token?: Secret;
  readonly maxHops: number;
  readonly maxLimit: number;
  readonly maxStreams: number;
  /** The longest read-your-writes wait a request may ask for. */
  readonly maxWaitMs: number;
  readonly requestTimeoutMs: number;
}

export interface KafkaSpec {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** TLS, with PEM contents (the loader reads the files); false for plaintext. */
  readonly ssl: false | TlsSpec;
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly password: Secret };
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** TLS options with PEM contents; without `ca`, the system's CAs are trusted. */
export interface TlsSpec {
  readonly rejectUnauthorized: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface RegistrySpec {
  /** A Confluent Schema Registry API base URL. */
  readonly url: string;
  /** HTTP basic auth. */
  readonly auth?: { readonly username: string; readonly password: Secret };
  /** TLS options for an `https://` URL beyond the defaults (the system's CAs, verified). */
  readonly tls?: TlsSpec;
}

export interface StoreSpec {
  /** State directory: one RocksDB database per processor and partition beneath it. */
  readonly dir: string;
  /** Atoms kept in memory per partition between batches. */
  readonly cachedAtoms: number;
  /** RocksDB block cache per partition, bytes. */
  readonly cacheBytes: number;
  /** RocksDB memtable size per partition, bytes. */
  readonly writeBufferBytes: number;
}

/** Where and how often the partitions' stores are snapshotted (see `topology/input.ts`, SnapshotsInput). */
export interface SnapshotsSpec {
  /** An absolute directory, local or shared. */
  readonly dir: string;
  readonly everyMs: number;
  /** Snapshots kept per partition and writer role. */
  readonly retain: number;
  /** Changelog records a snapshot must spare a restore for it to be fetched. */
  readonly minSavedRecords: number;
}

/** A read-only copy of a diffs topic, served by the query API under its name. */
export interface FollowerSpec {
  readonly name: string;
  /** The diffs topic it follows. */
  readonly diffs: string;
  /** How graph ids map to the topic's partitions. */
  readonly partitioner: PartitionerName;
}

/** One graph processor: input topics folded into graphs, diffs and rejections out. */
export interface ProcessorSpec {
  readonly name: string;
  /** Co-partitioned input topics (same partition count; a graph's records share a partition). */
  readonly inputs: readonly string[];
  /** The changelog: one GraphDiff per applied transaction. */
  readonly diffs: string;
  readonly rejections: string;
  /** Partitions of every topic of this processor (`topology apply` creates them so). */
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly schema?: GraphSchema;
  readonly maxInstructions: number;
  readonly maxRecordBytes: number;
  /** Input partitions processed at the same time by one instance. */
  readonly concurrency: number;
  /** How long the group waits for a silent (crashed) instance before moving its partitions. */
  readonly sessionTimeoutMs: number;
  /** Standby replicas kept of each partition on other instances (0: none). */
  readonly standbys: number;
  /** How long a partition may keep failing at one place (unreachable time aside) before the processor stops. */
  readonly taskTimeoutMs: number;
  /** How producers of the inputs partition keys; a record off its key's partition is WRONG_PARTITION. */
  readonly partitioner: PartitionerName;
  /** Input headers copied onto each diff and rejection. */
  readonly carryHeaders: readonly string[];
}

/** The consumer group of a processor. */
export function groupId(topology: Topology, processor: ProcessorSpec): string {
  return `${topology.application}-${processor.name}`;
}

/**
 * The transactional id of a processor's partition. It is named after the processor, not an input
 * topic: a processor may read several co-partitioned topics into one store, and fencing a zombie
 * needs one id per store.
 */
export function transactionalId(topology: Topology, processor: ProcessorSpec, partition: number): string {
  return `${topology.application}-${processor.name}-${partition}`;
}

/**
 * The RocksDB directory of one partition of a processor: `<store.dir>/<processor>/<partition>`.
 * `topology describe` prints it; the runtime opens it.
 */
export function storeDirectory(topology: Topology, processor: { readonly name: string }, partition: number): string {
  return join(topology.store.dir, processor.name, String(partition));
}

/** How every partition store of the topology is opened (a task's, a standby's, a follower's, a repair's). */
export function storeOptions(topology: Topology): GraphStoreOptions {
  const { store } = topology;
  return { rocks: { cacheBytes: store.cacheBytes, writeBufferBytes: store.writeBufferBytes }, cachedAtoms: store.cachedAtoms };
}

/** Where a snapshot is copied before it goes to the snapshot store: beside the stores, on their disk. */
export function snapshotStagingDirectory(topology: Topology): string {
  return join(topology.store.dir, '.snapshot-staging');
}
