/**
 * The one error hierarchy of graphfold, and the one place that decides what a failure means.
 *
 * - {@link TerminalError}: the input is wrong; retrying cannot help. In the processor it becomes a
 *   Rejection record and processing goes on.
 * - {@link RetriableError}: the broker, the registry or the disk is in trouble; the operation may
 *   succeed if retried (the runtime aborts the Kafka transaction, backs off and rewinds).
 *   {@link ClusterUnreachableError} is the kind that waits for the cluster to come back.
 * - {@link FatalError}: graphfold cannot go on without an operator (a bad topology, a refused
 *   credential, a store it may not discard). {@link BugError}: an error nobody expected, which is
 *   a bug in graphfold, never retried.
 *
 * Every error carries its context (graph, topic, partition, offset, slice, txId, store directory)
 * so a log line names what it is about, its cause (the OS or client error under it), and a message
 * that says what an operator should do. {@link classify} turns any thrown value into one of these:
 * kafkajs' errors by what they mean (not by the `retriable` flag kafkajs gives up with), Node's
 * system errors, RocksDB's messages; everything else is a bug.
 */
export interface ErrorContext {
  readonly processor?: string;
  readonly graph?: string;
  readonly txId?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly slice?: number;
  /** A store directory. */
  readonly dir?: string;
}

export abstract class GraphfoldError extends Error {
  abstract readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** Codes of refused input; schemas/README.md says what each means and what to do. */
export type RejectionCode =
  | 'DECODE_ERROR'
  | 'UNKNOWN_SCHEMA'
  | 'INVALID_INSTRUCTION'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'SCHEMA_VIOLATION'
  | 'STALE_SLICE'
  | 'TOO_LARGE'
  | 'WRONG_PARTITION';

export const rejectionCodes: readonly RejectionCode[] = [
  'DECODE_ERROR',
  'UNKNOWN_SCHEMA',
  'INVALID_INSTRUCTION',
  'CONFLICT',
  'NOT_FOUND',
  'TYPE_MISMATCH',
  'SCHEMA_VIOLATION',
  'STALE_SLICE',
  'TOO_LARGE',
  'WRONG_PARTITION',
];

/** Bad input. Never retried: it is rejected with its code, and nothing of it is applied. */
export class TerminalError extends GraphfoldError {
  readonly retriable = false;
  readonly code: RejectionCode;
  /** Index of the offending instruction inside its transaction, when one is to blame. */
  readonly instructionIndex?: number;

  constructor(
    code: RejectionCode,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown; instructionIndex?: number },
  ) {
    super(message, context, options);
    this.code = code;
    if (options?.instructionIndex !== undefined) this.instructionIndex = options.instructionIndex;
  }
}

/** Trouble outside the input (broker, registry, disk). Retrying may help. */
export class RetriableError extends GraphfoldError {
  readonly retriable = true;
}

/**
 * The cluster (or the registry) does not answer at all: connections refused, closed or timed
 * out. The runtime waits for it with backoff for as long as it takes (the outage is the
 * operator's to see, and a WARN says so), without counting it against a partition's retry budget.
 */
export class ClusterUnreachableError extends RetriableError {}

/** graphfold cannot go on without an operator. */
export class FatalError extends GraphfoldError {
  readonly retriable = false;
}

/**
 * No broker would name the coordinator of a group or a transactional id. kafkajs reports a
 * connection that closed under the lookup (a broker restarting) and a broker refusing to name it
 * to a principal without an ACL alike, as "Failed to find group coordinator": it is retried, and
 * only when it keeps happening ({@link coordinatorMissesForRefusal} times in a row, over
 * {@link coordinatorMissSpanMs} at least) does it
 * become `ifPersistent`, the refusal.
 */
export class CoordinatorNotFoundError extends RetriableError {
  constructor(
    message: string,
    readonly ifPersistent: FatalError,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, context, options);
  }
}

/** Consecutive coordinator lookups that fail before they count as a refusal... */
export const coordinatorMissesForRefusal = 3;
/** ...over at least this long: a broker restarting fails a few lookups within moments. */
export const coordinatorMissSpanMs = 2_000;

/**
 * The cluster refused who we are or what we asked: SASL authentication, an ACL (topic, group,
 * transactional id, cluster), TLS. Never retried; the message names the cause and what to
 * check, never a secret.
 */
export class SecurityError extends FatalError {
  constructor(
    readonly kind: 'authentication' | 'authorization' | 'tls',
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, context, options);
  }
}

/** An error nobody expected (a TypeError, an unknown failure): a bug in graphfold. Never retried. */
export class BugError extends FatalError {}

/**
 * A partition's store does not match its changelog (a slice out of step, an unreadable layout)
 * or RocksDB found it damaged. The store is discarded and rebuilt from the changelog; it never
 * serves state the changelog does not hold.
 */
export class StoreDivergedError extends FatalError {}

/** RocksDB reports corruption in a store: it is rebuilt from the changelog. */
export class StoreCorruptedError extends StoreDivergedError {}

/**
 * Another process (or another task of this one) holds the store's RocksDB lock. Not damage: the
 * store is left alone and opened again after a backoff, until the partition's retry budget runs
 * out.
 */
export class StoreLockedError extends RetriableError {}

/**
 * A partition's changelog lost history it had (the diffs topic was deleted and recreated, or
 * truncated): the consumer group committed its input with the changelog further than the
 * changelog now ends, whatever store opens the partition (an empty one included). The partition is
 * not started, and the operator chooses between `graphfold repair changelog` (from the store that
 * holds the history) and `graphfold repair store --discard` (giving it up).
 */
export class ChangelogHistoryLostError extends FatalError {}

/**
 * A store holds slices its changelog does not (the diffs topic was deleted and recreated, or
 * truncated, or replaced by another history). The store is then the last copy of that history:
 * the partition is not started, and the operator chooses between `graphfold repair changelog` and
 * `graphfold repair store`.
 */
export class StoreAheadOfChangelogError extends ChangelogHistoryLostError {}

/** Renders an error's context as `graph=g partition=3 offset=42` for log lines. */
export function describeContext(context: ErrorContext): string {
  return Object.entries(context)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** One link of an error's cause chain, outermost first. */
export interface CauseLink {
  readonly name: string;
  readonly message: string;
  /** A system error code (`ENOSPC`) or a Kafka error type (`NOT_COORDINATOR`). */
  readonly code?: string;
}

/**
 * The causes under `error`, outermost first, the error itself excluded: what a log line prints
 * after the message, so that an ENOSPC under a store failure is never lost.
 */
export function causeChain(error: unknown): CauseLink[] {
  const chain: CauseLink[] = [];
  const seen = new Set<unknown>([error]);
  let current = (error as { cause?: unknown } | undefined)?.cause;
  while (current !== undefined && current !== null && !seen.has(current) && chain.length < 8) {
    seen.add(current);
    const code = codeOf(current);
    const link = current instanceof Error ? { name: current.name, message: current.message } : { name: typeof current, message: String(current) };
    // kafkajs (and Node's TLS) wrap an error in another with the same message; one link of it is
    // enough, the one with a code.
    const previous = chain[chain.length - 1];
    if (previous !== undefined && previous.message === link.message && (previous.code === code || previous.code === undefined || code === undefined)) {
      if (previous.code === undefined && code !== undefined) chain[chain.length - 1] = { ...link, code };
    } else {
      chain.push(code === undefined ? link : { ...link, code });
    }
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * `message (cause: ENOSPC: no space left on device; cause: ...)`: an error in one line with its
 * causes. A {@link SecurityError}'s message names its cause in words already (and a cause could
 * quote what it should not), so it stands alone.
 */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SecurityError) return message;
  // A cause the message already names (its text, or its code) is not repeated.
  const causes = causeChain(error)
    .filter((link) => !message.includes(link.message) && (link.code === undefined || !message.includes(link.code)))
    .map((link) => `${link.code === undefined || link.message.includes(link.code) ? '' : `${link.code}: `}${link.message}`);
  return causes.length === 0 ? message : `${message} (cause: ${causes.join('; cause: ')})`;
}

function codeOf(error: unknown): string | undefined {
  const { code, type } = (error ?? {}) as { code?: unknown; type?: unknown };
  if (typeof type === 'string') return type;
  return typeof code === 'string' ? code : undefined;
}

// --- classification ---------------------------------------------------------------------------

/** Where a failure happened, for its message and context. */
export interface FailureSite {
  /** What was being done: `commit the transaction of partition 3`. */
  readonly doing: string;
  readonly context?: ErrorContext;
  /** Named in messages about the cluster: `Kafka cluster at 127.0.0.1:9092`. */
  readonly cluster?: string;
}

/** Errors that are mistakes in code, never the world's doing (kafkajs' retry treats them alike). */
const bugNames = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'KafkaJSInvariantViolation']);

/** Kafka error types that are refused credentials or permissions. */
const authorizationTypes = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED']);
const authenticationTypes = new Set(['SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM']);
/** Kafka error types that mean a setting (the topology's, a topic's, the broker's) is wrong. */
const configurationTypes = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_CONFIG',
  'INVALID_REQUIRED_ACKS',
  'INVALID_TRANSACTION_TIMEOUT',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'POLICY_VIOLATION',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_SESSION_TIMEOUT',
  'INVALID_GROUP_ID',
  'TOPIC_DELETION_DISABLED',
  'TRANSACTIONAL_ID_NOT_FOUND',
]);
/** Kafka error types that mean records are damaged. */
const corruptionTypes = new Set(['CORRUPT_MESSAGE', 'INVALID_RECORD']);
/** kafkajs errors that mean the cluster does not answer (no broker connected). */
const unreachableNames = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSNoBrokerAvailableError', 'KafkaJSBrokerNotFound']);
/** kafkajs errors that mean "not yet" (metadata, a coordinator, a lock): retriable. */
const transientNames = new Set(['KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded', 'KafkaJSStaleTopicMetadataAssignment', 'KafkaJSGroupCoordinatorNotFound', 'KafkaJSTimeout', 'KafkaJSLockTimeout', 'KafkaJSFetcherRebalanceError', 'KafkaJSOffsetOutOfRange']);
/** kafkajs errors that mean the client and the broker cannot talk (versions, framing). */
const protocolFatalNames = new Set(['KafkaJSServerDoesNotSupportApiKey', 'KafkaJSNotImplemented', 'KafkaJSUnsupportedMagicByteInMessageSet', 'KafkaJSInvalidVarIntError', 'KafkaJSInvalidLongError', 'KafkaJSPartialMessageError']);
/** Node's socket errors: the peer is gone or not there. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENETDOWN', 'EHOSTDOWN']);

/** True for a TLS handshake or certificate failure code (Node's and OpenSSL's). */
function isTlsCode(code: string): boolean {
  return /^ERR_(SSL|TLS)_|CERT|^UNABLE_TO_(GET|VERIFY|DECRYPT)|^DEPTH_ZERO|^SELF_SIGNED|^HOSTNAME_MISMATCH|^EPROTO$/.test(code);
}

/**
 * What a thrown value means, as a {@link GraphfoldError}: a graphfold error as it is; a kafkajs,
 * socket or TLS error by the deepest cause that tells (a coordinator, leadership or connection
 * trouble is retriable whatever kafkajs concluded after its own retries; a refused credential, a
 * wrong setting or corrupt records are fatal); anything else, a TypeError included, a
 * {@link BugError}.
 */
export function classify(error: unknown, site: FailureSite = { doing: 'run' }): GraphfoldError {
  if (error instanceof GraphfoldError) return error;
  const context = site.context ?? {};
  const where = site.cluster === undefined ? '' : `${site.cluster}: `;
  const chain = [error, ...causeObjects(error)];
  const root = deepestTelling(chain);
  const name = (root as Error | undefined)?.name ?? typeof root;
  const message = describeError(error);
  const code = codeOf(root);
  const type = (root as { type?: unknown }).type;

  // Node's fetch throws a TypeError whose cause is the socket's error: the socket decides.
  if (code !== undefined && socketCodes.has(code)) {
    return new ClusterUnreachableError(`${where}cannot ${site.doing}: ${rootMessage(root)}; check that it is up and reachable, and its address in the topology`, context, { cause: error });
  }
  if (chain.some((e) => e instanceof Error && bugNames.has(e.name))) {
    return new BugError(`unexpected ${name} while trying to ${site.doing}: ${message} (a bug in graphfold; please report it with this log)`, context, { cause: error });
  }
  if (typeof type === 'string') {
    if (authenticationTypes.has(type)) return new SecurityError('authentication', `${where}cannot ${site.doing}: authentication failed (${type}): ${rootMessage(root)}; check kafka.sasl (mechanism, username, password) in the topology`, context, { cause: error });
    if (authorizationTypes.has(type)) return new SecurityError('authorization', `${where}cannot ${site.doing}: not authorized (${type}): ${rootMessage(root)}; grant the principal the ACL it needs (see the topology's groups, topics and transactional ids in graphfold topology describe)`, context, { cause: error });
    if (configurationTypes.has(type)) return new FatalError(`${where}cannot ${site.doing}: the broker refuses it as configured (${type}): ${rootMessage(root)}; check the topic and broker settings graphfold topology apply reports`, context, { cause: error });
    if (corruptionTypes.has(type)) return new FatalError(`${where}cannot ${site.doing}: the broker reports corrupt records (${type}): ${rootMessage(root)}; check the broker's disks and logs`, context, { cause: error });
    return new RetriableError(`${where}cannot ${site.doing} yet (${type}): ${rootMessage(root)}`, context, { cause: error });
  }
  if (name === 'KafkaJSSASLAuthenticationError') return new SecurityError('authentication', `${where}cannot ${site.doing}: SASL authentication failed: ${rootMessage(root)}; check kafka.sasl (mechanism, username, password) in the topology`, context, { cause: error });
  if (code !== undefined && isTlsCode(code)) return new SecurityError('tls', `${where}cannot ${site.doing}: TLS failed (${code}): ${rootMessage(root)}; check kafka.tls (ca, cert, key) in the topology and the broker's certificate`, context, { cause: error });
  if (protocolFatalNames.has(name)) return new FatalError(`${where}cannot ${site.doing}: the broker and graphfold's Kafka client do not understand each other (${name}): ${rootMessage(root)}`, context, { cause: error });
  if (unreachableNames.has(name)) {
    return new ClusterUnreachableError(`${where}cannot ${site.doing}: ${rootMessage(root)}; check that the brokers are up and reachable, and kafka.brokers in the topology`, context, { cause: error });
  }
  if (transientNames.has(name) || name === 'KafkaJSNumberOfRetriesExceeded' || (name.startsWith('KafkaJS') && (root as { retriable?: unknown }).retriable === true)) {
    return new RetriableError(`${where}cannot ${site.doing} yet: ${rootMessage(root)}`, context, { cause: error });
  }
  return new BugError(`unexpected ${name} while trying to ${site.doing}: ${message} (a bug in graphfold; please report it with this log)`, context, { cause: error });
}

/** The error, then its causes (kafkajs keeps them in `cause`; an aggregate in `errors`). */
function causeObjects(error: unknown): unknown[] {
  const found: unknown[] = [];
  let current = (error as { cause?: unknown } | undefined)?.cause;
  while (current !== undefined && current !== null && !found.includes(current) && found.length < 8) {
    found.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) found.push(...errors.slice(0, 8));
  return found;
}

/**
 * The cause that says most: the deepest with a Kafka error type or a system code, else the
 * deepest kafkajs error that is not a wrapper, else the error itself.
 */
function deepestTelling(chain: readonly unknown[]): unknown {
  const wrappers = new Set(['KafkaJSNonRetriableError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSError']);
  for (let i = chain.length - 1; i >= 0; i -= 1) if (codeOf(chain[i]) !== undefined) return chain[i];
  for (let i = chain.length - 1; i >= 0; i -= 1) {
    const name = (chain[i] as Error | undefined)?.name;
    if (name !== undefined && name.startsWith('KafkaJS') && !wrappers.has(name)) return chain[i];
  }
  for (const e of chain) if ((e as Error | undefined)?.name === 'KafkaJSNumberOfRetriesExceeded') return e;
  return chain[chain.length - 1];
}

function rootMessage(root: unknown): string {
  const message = root instanceof Error ? root.message : String(root);
  const code = codeOf(root);
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

// --- the store's failures ----------------------------------------------------------------------

/** OS errors of a store, by the code RocksDB and Node name them with. */
const storeErrorCodes: readonly { readonly code: string; readonly pattern: RegExp }[] = [
  { code: 'ENOSPC', pattern: /no space left on device|ENOSPC/i },
  { code: 'EDQUOT', pattern: /disk quota exceeded|EDQUOT/i },
  { code: 'EROFS', pattern: /read-only file system|EROFS/i },
  { code: 'EACCES', pattern: /permission denied|EACCES/i },
  { code: 'EPERM', pattern: /operation not permitted|EPERM/i },
  { code: 'EIO', pattern: /input\/output error|EIO\b/i },
  { code: 'EMFILE', pattern: /too many open files|EMFILE/i },
  { code: 'EFBIG', pattern: /file too large|EFBIG/i },
];

/**
 * A RocksDB or file-system failure of the store in `dir`, named by what it is: a lock held by
 * another process ({@link StoreLockedError}, waited for), corruption ({@link StoreCorruptedError},
 * rebuilt from the changelog), a full disk or quota (retriable: space may be freed), a read-only
 * or forbidden directory (fatal: the operator must act). Every one names the directory and the OS
 * error.
 */
export function storeFailure(dir: string, doing: string, error: unknown, context: ErrorContext = {}): GraphfoldError {
  if (error instanceof GraphfoldError) return error;
  const text = describeError(error);
  const at = { ...context, dir };
  const osError = storeErrorCodes.find(({ pattern }) => pattern.test(text))?.code;
  const os = osError ?? codeOf(error);
  // The OS error first: RocksDB words a read-only or full disk under the LOCK file as a lock failure.
  if (osError === undefined && /lock/i.test(text) && /Resource temporarily unavailable|lock hold by current process|No locks available|While lock file/i.test(text)) {
    return new StoreLockedError(`another process holds the store ${dir} (${text}); each instance needs its own store.dir: waiting for it to be released`, at, { cause: error });
  }
  if (osError === undefined && /corrupt/i.test(text)) return new StoreCorruptedError(`RocksDB reports the store ${dir} corrupt while trying to ${doing} (${text}); it is rebuilt from the changelog`, at, { cause: error });
  switch (os) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new RetriableError(`the store ${dir} cannot ${doing}: the disk is full (${os}: ${text}); free space on its volume or give store.dir more room: graphfold retries, and restores what it could not write from the changelog`, at, { cause: error });
    case 'EROFS':
      return new FatalError(`the store ${dir} cannot ${doing}: its file system is read-only (EROFS: ${text}); remount it read-write or point store.dir elsewhere, then start again (the changelog restores what was not written)`, at, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new FatalError(`the store ${dir} cannot ${doing}: permission denied (${os}: ${text}); give the user graphfold runs as write access to store.dir`, at, { cause: error });
    default:
      return new FatalError(`the store ${dir} cannot ${doing}: ${os === undefined ? '' : `${os}: `}${text}; check the disk and the directory, then start again (the changelog restores what was not written)`, at, { cause: error });
  }
}
