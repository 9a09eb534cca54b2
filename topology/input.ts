import type { PartitionerName } from '../processors/codec/partitioner';
import type { GraphSchema } from '../processors/engine/schema';

/**
 * The topology file, as written: what graphfold runs and against which cluster. Stage one of
 * three: this documented input (every option with its default), then `defaults.ts` fills the
 * defaults in, then `compile.ts` validates, resolves paths, reads files and freezes a
 * {@link import('../processors/runtime/topology').Topology}.
 *
 * Any string value may use `${VAR}` or `${VAR:-default}` (environment variables), so brokers and
 * passwords can come from the environment. Relative paths are relative to the topology file.
 */
export interface TopologyInput {
  /**
   * Names the consumer groups (`<application>-<processor>`) and transactional ids
   * (`<application>-<processor>-<partition>`): changing it starts the processors afresh.
   * Letters, digits, `.`, `_` and `-`. Required.
   */
  readonly application: string;
  /** Required. */
  readonly kafka: KafkaInput;
  /** Required. */
  readonly registry: RegistryInput;
  /** @default {} (every store option at its default) */
  readonly store?: StoreInput;
  /** One or more graph processors. Required, unless the topology has followers only. */
  readonly processors?: readonly ProcessorInput[];
  /**
   * The HTTP query API this instance serves over the graphs of its processors (and forwards to
   * the instance that owns a graph). @default none (no query server)
   */
  readonly query?: QueryInput;
  /**
   * An HTTP server of its own for `/metrics` (Prometheus), `/healthz` and `/readyz`, for an
   * instance that serves no query API (which serves the same routes). @default none
   */
  readonly ops?: OpsInput;
  /**
   * Snapshots of every partition's store, taken by its owner on a schedule and on a clean stop,
   * so that a new or emptied instance restores the newest one and replays only the changelog
   * after it. @default none (a store is rebuilt from the whole changelog)
   */
  readonly snapshots?: SnapshotsInput;
  /**
   * Read-only copies of diffs topics (this topology's processors' or another team's), each served
   * by the query API under its name, written to nothing in Kafka. `graphfold run` runs them beside
   * the processors; `graphfold follow` runs them alone. @default none
   */
  readonly followers?: readonly FollowerInput[];
}

export interface SnapshotsInput {
  /**
   * Where snapshots are kept: a directory, local or shared by every instance (NFS, a Kubernetes
   * volume), as `<dir>/<diffs topic>/<partition>/<snapshot id>/`. Required.
   */
  readonly dir: string;
  /**
   * How often each owner snapshots each of its partitions whose store changed since its last
   * snapshot: milliseconds, or a duration such as `10m`, `30s`, `1h`. A clean stop takes one too.
   * @default '10m'
   */
  readonly every?: number | string;
  /** Snapshots kept per partition (and per writer: owners, followers); older ones are deleted. @default 3 */
  readonly retain?: number;
  /**
   * Changelog records a snapshot must spare a restore for it to be fetched: a store (an empty one,
   * say) further behind the newest valid snapshot than this is replaced by it, a store closer to
   * it replays the rest. @default 10000 (a replay of fewer takes about as long as the fetch)
   */
  readonly minSavedRecords?: number;
}

export interface FollowerInput {
  /**
   * Names the follower: its stores (`<store.dir>/<name>/<partition>`) and, in the query API,
   * `processor=<name>`. Unique among processors and followers. Required.
   */
  readonly name: string;
  /** The diffs topic to follow (a processor's `diffs`). Required. */
  readonly diffs: string;
  /**
   * How the processor that writes the topic partitions graph ids (its `partitioner`), so a read
   * finds its graph's partition. @default 'murmur2'
   */
  readonly partitioner?: PartitionerName;
}

export interface QueryInput {
  /**
   * `host:port` to listen on; port 0 picks a free port. Binds loopback unless told otherwise:
   * write `0.0.0.0:7070` to serve other hosts (and set a token). Required.
   */
  readonly listen: string;
  /**
   * The base URL other instances (and clients following a redirect) reach this one at.
   * @default http://<listen host>:<port>
   */
  readonly advertise?: string;
  /**
   * A bearer token every request but the probes (/healthz, /readyz, /metrics) must send as
   * `Authorization: Bearer <token>`; write `${VAR}`. @default none (no authentication)
   */
  readonly token?: string;
  /** The most hops a neighbourhood or path query may ask for. @default 4 */
  readonly maxHops?: number;
  /** The most items one page or neighbourhood answer may hold. @default 10000 */
  readonly maxLimit?: number;
  /** Server-sent event streams (`/changes`) served at once; more are refused with 503. @default 100 */
  readonly maxStreams?: number;
  /** The longest `wait=` a read-your-writes request may ask for; the default wait is 5 s (or this, if shorter). @default 30000 */
  readonly maxWaitMs?: number;
  /** How long a request may take before it is answered 503 (a wait for a slice ends earlier, with 504). @default 40000 */
  readonly requestTimeoutMs?: number;
}

export interface OpsInput {
  /** `host:port` to listen on, e.g. `127.0.0.1:9464`; port 0 picks a free one (logged). Required. */
  readonly listen: string;
}

export interface KafkaInput {
  /**
   * `host:port` of one or more brokers: a list, or one comma-separated string (so
   * `brokers: ${KAFKA_BROKERS}` works). Required.
   */
  readonly brokers: string | readonly string[];
  /** The client id every connection sends (suffixed per client). @default the application */
  readonly clientId?: string;
  /** `false`: plaintext; `true`: TLS trusting the system's CAs; or TLS options. @default false */
  readonly tls?: boolean | TlsInput;
  /** SASL authentication. @default none */
  readonly sasl?: SaslInput;
  /** @default 10000 */
  readonly connectionTimeoutMs?: number;
  /** @default 30000 */
  readonly requestTimeoutMs?: number;
}

/** TLS to the brokers. Each PEM option is a file path (relative to the topology file) or PEM text. */
export interface TlsInput {
  /** CA certificate(s) to trust. @default the system's CAs */
  readonly ca?: string;
  /** Client certificate, for mutual TLS (with `key`). @default none */
  readonly cert?: string;
  /** Client private key, for mutual TLS (with `cert`). @default none */
  readonly key?: string;
  /** Refuse brokers whose certificate does not verify. Turn off only to debug. @default true */
  readonly rejectUnauthorized?: boolean;
}

export const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

export interface SaslInput {
  /** Required. */
  readonly mechanism: (typeof saslMechanisms)[number];
  /** Required. */
  readonly username: string;
  /**
   * The password, as `${VAR}` alone: it is read from the environment, never written in the
   * topology (a literal, or a `${VAR:-default}`, is refused). One of password and passwordFile.
   */
  readonly password?: string;
  /**
   * A file holding the password (a mounted Kubernetes or Docker secret, say); a final newline is
   * not part of it. One of password and passwordFile.
   */
  readonly passwordFile?: string;
}

export interface RegistryInput {
  /** A Confluent Schema Registry API base URL (`http://` or `https://`). Required. */
  readonly url: string;
  /** Basic auth user, with `password` or `passwordFile`. @default none */
  readonly username?: string;
  /** Basic auth password, as `${VAR}` alone (see {@link SaslInput.password}). @default none */
  readonly password?: string;
  /** A file holding the basic auth password (see {@link SaslInput.passwordFile}). @default none */
  readonly passwordFile?: string;
  /**
   * TLS to an `https://` registry: `ca` to trust a private CA, `cert` and `key` for mutual TLS.
   * @default the system's CAs, certificates verified
   */
  readonly tls?: TlsInput;
}

export interface StoreInput {
  /**
   * The state directory: one RocksDB database per processor and partition beneath it, at
   * `<dir>/<processor>/<partition>`. A cache of the changelog, rebuilt from it when lost, so
   * put it on a persistent volume to spare restores.
   * @default '<system temp dir>/graphfold/<application>'
   */
  readonly dir?: string;
  /** Atoms kept in memory per partition between batches. @default 100000 */
  readonly cachedAtoms?: number;
  /** RocksDB block cache per partition: bytes, or a size such as `64 MiB`. @default '64 MiB' */
  readonly cacheBytes?: number | string;
  /** RocksDB memtable per partition: bytes, or a size such as `32 MiB`. @default '32 MiB' */
  readonly writeBufferBytes?: number | string;
}

export interface ProcessorInput {
  /** Names the consumer group, transactional ids and store directories. Required. */
  readonly name: string;
  /**
   * The topics of GraphTransaction records (or GraphDiff records, to mirror another graph),
   * keyed by graph id. Several topics must be co-partitioned. Required.
   */
  readonly inputs: readonly string[];
  /** The changelog: one GraphDiff per applied transaction, kept forever. @default '<name>-diffs' */
  readonly diffs?: string;
  /** One Rejection per refused record. @default '<name>-rejections' */
  readonly rejections?: string;
  /** Partitions of every topic of this processor (`topology apply` creates them so). @default 6 */
  readonly partitions?: number;
  /** Replicas of every topic `topology apply` creates; 1 suits a one-broker cluster only. @default 3 */
  readonly replicationFactor?: number;
  /**
   * A graph schema checked on every transaction: inline, or the path of a YAML or JSON file
   * holding one. @default none (any types)
   */
  readonly schema?: string | GraphSchema;
  /** Instructions per transaction; more is refused with TOO_LARGE. @default 10000 */
  readonly maxInstructions?: number;
  /** Bytes per input record value, or a size such as `1 MiB`; more is refused with TOO_LARGE. @default '1 MiB' */
  readonly maxRecordBytes?: number | string;
  /** Input partitions one instance processes at the same time. @default 4 */
  readonly concurrency?: number;
  /**
   * How long the group waits for an instance that stopped heartbeating (crashed) before moving
   * its partitions; the broker allows 6000 to 1800000 by default. @default 30000
   */
  readonly sessionTimeoutMs?: number;
  /**
   * Standby replicas of each partition: other instances keep a read-only copy of its store that
   * follows the changelog as it is written, so when the owner dies the most caught-up standby
   * takes over restoring only the tail, and serves reads meanwhile (with their lag). At most the
   * number of instances less one are placed. @default 0
   */
  readonly standbys?: number;
  /**
   * How long a partition may keep failing at the same place (a batch that cannot commit, a store
   * that cannot open or write) before the processor stops with the offset and the cause. Retries
   * back off from 0.5 s to 30 s; time the cluster is unreachable does not count. @default 300000
   */
  readonly taskTimeoutMs?: number;
  /**
   * How the producers of the input topics partition keys: `murmur2` (Kafka's default partitioner:
   * Java, kafkajs, `graphfold produce`; librdkafka with `partitioner=murmur2_random`) or `crc32`
   * (librdkafka's default). A record that is not on its key's partition is rejected
   * WRONG_PARTITION, so a graph never gets two histories. @default 'murmur2'
   */
  readonly partitioner?: PartitionerName;
  /**
   * Headers of an input record copied onto its diff or rejection (names matched
   * case-insensitively), e.g. W3C trace context. `[]` carries none. @default ['traceparent', 'tracestate']
   */
  readonly carryHeaders?: readonly string[];
}
