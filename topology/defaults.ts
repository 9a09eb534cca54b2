import { join } from 'node:path';
import type { GraphSchema } from '../processors/engine/schema';
import type { PartitionerName } from '../processors/codec/partitioner';
import { parseByteSize } from './byte-size';
import { parseDuration } from './duration';
import type { RegistryInput, SaslInput, TlsInput, TopologyInput } from './input';

/** Stage two of three: the input with every default filled in and sizes in bytes. */
export interface TopologyWithDefaults {
  readonly application: string;
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly tls: false | TlsWithDefaults;
    readonly sasl?: SaslInput;
    readonly connectionTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
  readonly registry: Omit<RegistryInput, 'tls'> & { readonly tls?: TlsWithDefaults };
  readonly store: { readonly dir: string; readonly cachedAtoms: number; readonly cacheBytes: number; readonly writeBufferBytes: number };
  readonly processors: readonly ProcessorWithDefaults[];
  readonly ops?: { readonly listen: string };
  readonly query?: QueryWithDefaults;
  readonly snapshots?: { readonly dir: string; readonly everyMs: number; readonly retain: number; readonly minSavedRecords: number };
  readonly followers: readonly { readonly name: string; readonly diffs: string; readonly partitioner: PartitionerName }[];
}

export interface QueryWithDefaults {
  readonly listen: string;
  readonly advertise?: string;
  readonly token?: string;
  readonly maxHops: number;
  readonly maxLimit: number;
  readonly maxStreams: number;
  readonly maxWaitMs: number;
  readonly requestTimeoutMs: number;
}

export type TlsWithDefaults = Omit<TlsInput, 'rejectUnauthorized'> & { readonly rejectUnauthorized: boolean };

export interface ProcessorWithDefaults {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly diffs: string;
  readonly rejections: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Inline, or a file path still to read. */
  readonly schema?: string | GraphSchema;
  readonly maxInstructions: number;
  readonly maxRecordBytes: number;
  readonly concurrency: number;
  readonly sessionTimeoutMs: number;
  readonly standbys: number;
  readonly taskTimeoutMs: number;
  readonly partitioner: PartitionerName;
  readonly carryHeaders: readonly string[];
}

const MiB = 1024 * 1024;

/** The defaults of `input.ts`, for a small production deployment. */
export const topologyDefaults = Object.freeze({
  connectionTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  cachedAtoms: 100_000,
  cacheBytes: 64 * MiB,
  writeBufferBytes: 32 * MiB,
  partitions: 6,
  replicationFactor: 3,
  maxInstructions: 10_000,
  /** Input records and diffs alike; under Kafka's default 1 MiB message.max.bytes, with room for key and framing. */
  maxRecordBytes: 1_000_000,
  concurrency: 4,
  sessionTimeoutMs: 30_000,
  /** Kafka Streams' task.timeout.ms default. */
  taskTimeoutMs: 300_000,
  partitioner: 'murmur2' as PartitionerName,
  /** W3C trace context, so a trace runs from the producer through graphfold to the consumers. */
  carryHeaders: Object.freeze(['traceparent', 'tracestate']) as readonly string[],
  maxHops: 4,
  maxLimit: 10_000,
  maxStreams: 100,
  maxWaitMs: 30_000,
  queryRequestTimeoutMs: 40_000,
  standbys: 0,
  /** Ten minutes of history at most to replay on top of the newest snapshot, for a few seconds of copying. */
  snapshotEveryMs: 10 * 60_000,
  snapshotsRetained: 3,
  snapshotMinSavedRecords: 10_000,
});

/** Facts of the machine some defaults depend on. */
export interface DefaultsContext {
  /** The system's temporary directory, under which the default state directory goes. */
  readonly tmpDir: string;
}

/** Fills in the defaults. Pure: the input has been read and checked, so nothing here can fail. */
export function addDefaults(input: TopologyInput, context: DefaultsContext): TopologyWithDefaults {
  const d = topologyDefaults;
  const { kafka, store = {} } = input;
  const { tls: registryTls, ...registry } = input.registry;
  const tls = kafka.tls ?? false;
  return {
    application: input.application,
    kafka: {
      brokers: typeof kafka.brokers === 'string' ? kafka.brokers.split(',').map((b) => b.trim()).filter((b) => b !== '') : kafka.brokers,
      clientId: kafka.clientId ?? input.application,
      tls: tls === false ? false : tls === true ? { rejectUnauthorized: true } : { ...tls, rejectUnauthorized: tls.rejectUnauthorized ?? true },
      ...(kafka.sasl === undefined ? {} : { sasl: kafka.sasl }),
      connectionTimeoutMs: kafka.connectionTimeoutMs ?? d.connectionTimeoutMs,
      requestTimeoutMs: kafka.requestTimeoutMs ?? d.requestTimeoutMs,
    },
    registry: { ...registry, ...(registryTls === undefined ? {} : { tls: { ...registryTls, rejectUnauthorized: registryTls.rejectUnauthorized ?? true } }) },
    store: {
      dir: store.dir ?? join(context.tmpDir, 'graphfold', input.application),
      cachedAtoms: store.cachedAtoms ?? d.cachedAtoms,
      cacheBytes: bytes(store.cacheBytes) ?? d.cacheBytes,
      writeBufferBytes: bytes(store.writeBufferBytes) ?? d.writeBufferBytes,
    },
    ...(input.query === undefined
      ? {}
      : {
          query: {
            listen: input.query.listen,
            ...(input.query.advertise === undefined ? {} : { advertise: input.query.advertise }),
            ...(input.query.token === undefined ? {} : { token: input.query.token }),
            maxHops: input.query.maxHops ?? d.maxHops,
            maxLimit: input.query.maxLimit ?? d.maxLimit,
            maxStreams: input.query.maxStreams ?? d.maxStreams,
            maxWaitMs: input.query.maxWaitMs ?? d.maxWaitMs,
            requestTimeoutMs: input.query.requestTimeoutMs ?? d.queryRequestTimeoutMs,
          },
        }),
    ...(input.snapshots === undefined
      ? {}
      : { snapshots: { dir: input.snapshots.dir, everyMs: milliseconds(input.snapshots.every) ?? d.snapshotEveryMs, retain: input.snapshots.retain ?? d.snapshotsRetained, minSavedRecords: input.snapshots.minSavedRecords ?? d.snapshotMinSavedRecords } }),
    followers: (input.followers ?? []).map((f) => ({ name: f.name, diffs: f.diffs, partitioner: f.partitioner ?? d.partitioner })),
    processors: (input.processors ?? []).map((p) => ({
      name: p.name,
      inputs: p.inputs,
      diffs: p.diffs ?? `${p.name}-diffs`,
      rejections: p.rejections ?? `${p.name}-rejections`,
      partitions: p.partitions ?? d.partitions,
      replicationFactor: p.replicationFactor ?? d.replicationFactor,
      ...(p.schema === undefined ? {} : { schema: p.schema }),
      maxInstructions: p.maxInstructions ?? d.maxInstructions,
      maxRecordBytes: bytes(p.maxRecordBytes) ?? d.maxRecordBytes,
      concurrency: p.concurrency ?? d.concurrency,
      sessionTimeoutMs: p.sessionTimeoutMs ?? d.sessionTimeoutMs,
      standbys: p.standbys ?? d.standbys,
      taskTimeoutMs: p.taskTimeoutMs ?? d.taskTimeoutMs,
      partitioner: p.partitioner ?? d.partitioner,
      carryHeaders: p.carryHeaders ?? d.carryHeaders,
    })),
    ...(input.ops === undefined ? {} : { ops: { listen: input.ops.listen } }),
  };
}

function bytes(size: number | string | undefined): number | undefined {
  return typeof size === 'string' ? parseByteSize(size) : size;
}

function milliseconds(duration: number | string | undefined): number | undefined {
  return typeof duration === 'string' ? parseDuration(duration) : duration;
}
