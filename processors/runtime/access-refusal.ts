import { CoordinatorNotFoundError, coordinatorMissesForRefusal, SecurityError } from '../errors';
import type { KafkaSpec, RegistrySpec } from './topology';

/**
 * The cluster or the registry refusing graphfold: credentials it does not accept, an operation
 * no ACL allows, a certificate that does not verify. Retrying cannot help, so these are fatal
 * and never retried: the processor stops at once, and a command fails with one line that names
 * the cause and what to change. Messages never carry a password (the topology's are Secrets,
 * and neither the broker, the registry nor Node puts one in an error).
 *
 * {@link accessRefusal} is the one place that recognises them, from kafkajs errors (by protocol
 * error type, or by `KafkaJSSASLAuthenticationError`), from Node's TLS errors (by code, anywhere
 * in the cause chain) and from registry answers (401, 403).
 */
export type RefusalKind = 'authentication' | 'authorization' | 'tls';

export class AccessRefusedError extends SecurityError {
  constructor(kind: RefusalKind, message: string, options?: { cause?: unknown }) {
    super(kind, message, {}, options);
  }
}

/** What graphfold was doing when it was refused, to name the ACL it lacks. */
export interface Attempt {
  /** `write diffs to topic crm-diffs`: completes "is not authorized to ...". */
  readonly doing: string;
  /** `Write on topic crm-diffs`: what to grant. */
  readonly needs: string;
  /**
   * `consumer group crm-graphs`, when the attempt starts by asking which broker coordinates a
   * group or a transactional id. A broker answers that question with an authorization error for
   * a principal without an ACL on it, and kafkajs turns every such answer into "Failed to find
   * group coordinator" (KafkaJSGroupCoordinatorNotFound, not retried), dropping the reason. A
   * connection that closes under the lookup (a broker restarting) ends the same way, so it is
   * taken for a refusal only when it repeats (`coordinatorMisses`; see {@link attempting}).
   */
  readonly coordinated?: string;
}

/** Kafka's authorization errors, by the resource type each is about. */
const authorizationErrors: Readonly<Record<string, string>> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'consumer group',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional id',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
};

const authenticationErrors = new Set(['SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE']);

/** Node's codes for a peer certificate that does not verify, and what each means and asks. */
const certificateProblems: Readonly<Record<string, { readonly is: string; readonly fix: string }>> = {
  ERR_TLS_CERT_ALTNAME_INVALID: { is: 'is for another host name', fix: 'connect by a name the certificate holds, or have the certificate issued for the name you connect by' },
  CERT_HAS_EXPIRED: { is: 'has expired', fix: 'renew the certificate' },
  CERT_NOT_YET_VALID: { is: 'is not valid yet', fix: "check the certificate's dates and the clocks" },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { is: 'is not signed by a CA graphfold trusts', fix: 'set tls.ca to the PEM file of the CA that signed it' },
  UNABLE_TO_GET_ISSUER_CERT: { is: 'is not signed by a CA graphfold trusts', fix: 'set tls.ca to the PEM file of the CA that signed it' },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { is: 'is not signed by a CA graphfold trusts', fix: 'set tls.ca to the PEM file of the CA that signed it' },
  SELF_SIGNED_CERT_IN_CHAIN: { is: 'is not signed by a CA graphfold trusts', fix: 'set tls.ca to the PEM file of the CA that signed it' },
  DEPTH_ZERO_SELF_SIGNED_CERT: { is: 'is self-signed and not trusted', fix: 'set tls.ca to the PEM file of that certificate, or of the CA that should sign it' },
  CERT_SIGNATURE_FAILURE: { is: 'has a signature that does not verify', fix: 'check the certificate chain the server presents' },
  CERT_UNTRUSTED: { is: 'is not trusted', fix: 'set tls.ca to the PEM file of the CA that signed it' },
  CERT_REJECTED: { is: 'is rejected', fix: 'check the certificate chain the server presents' },
  CERT_REVOKED: { is: 'is revoked', fix: 'have a new certificate issued' },
};

/** The errors of a cause chain, outermost first (kafkajs wraps: retries exceeded, non-retriable, connection). */
function chain(error: unknown): Record<string, unknown>[] {
  const errors: Record<string, unknown>[] = [];
  for (let e: unknown = error; typeof e === 'object' && e !== null && errors.length < 10; e = (e as { cause?: unknown }).cause) {
    errors.push(e as Record<string, unknown>);
  }
  return errors;
}

/** The certificate problem of a TLS handshake failure (Node's error, or any error caused by one). */
export function certificateProblem(error: unknown): { readonly code: string; readonly is: string; readonly fix: string } | undefined {
  for (const e of chain(error)) {
    const code = e['code'];
    if (typeof code === 'string' && Object.hasOwn(certificateProblems, code)) return { code, ...(certificateProblems[code] as { is: string; fix: string }) };
  }
  return undefined;
}

/** True when kafkajs gave up finding a coordinator (see {@link Attempt.coordinated}). */
export function coordinatorMissed(error: unknown): boolean {
  return chain(error).some((e) => e['name'] === 'KafkaJSGroupCoordinatorNotFound');
}

/**
 * The refusal an error of the Kafka cluster is, or undefined when it is something else (which the
 * caller handles as before). `attempt` names the operation for an authorization error; a
 * coordinator that could not be found is one only after `coordinatorMisses` such failures in a
 * row (at least {@link coordinatorMissesForRefusal}).
 */
export function accessRefusal(error: unknown, spec: KafkaSpec, attempt?: Attempt, options: { readonly coordinatorMisses?: number } = {}): AccessRefusedError | undefined {
  if (error instanceof AccessRefusedError) return error;
  const cluster = `Kafka cluster at ${spec.brokers.join(',')}`;
  const user = spec.sasl === undefined ? 'graphfold' : `user ${spec.sasl.username}`;
  const errors = chain(error);
  for (const e of errors) {
    const type = typeof e['type'] === 'string' ? e['type'] : '';
    if (e['name'] === 'KafkaJSSASLAuthenticationError' || authenticationErrors.has(type)) {
      const how = spec.sasl === undefined ? 'SASL' : `SASL ${spec.sasl.mechanism}`;
      return new AccessRefusedError(
        'authentication',
        `${cluster} refused the credentials of ${user} (${how}): check kafka.sasl.username and the password (kafka.sasl.password or passwordFile) in the topology; the broker said: ${String(e['message'])}`,
        { cause: error },
      );
    }
    if (e['name'] === 'KafkaJSGroupCoordinatorNotFound' && attempt?.coordinated !== undefined) {
      if ((options.coordinatorMisses ?? 0) < coordinatorMissesForRefusal) return undefined;
      return new AccessRefusedError(
        'authorization',
        `${cluster}: ${user} is not authorized to ${attempt.doing} (the broker would not name the coordinator of ${attempt.coordinated}, which it refuses a principal without an ACL on it): grant ${spec.sasl === undefined ? 'its principal' : `User:${spec.sasl.username}`} ${attempt.needs}; graphfold topology describe prints every ACL graphfold needs`,
        { cause: error },
      );
    }
    const resource = authorizationErrors[type];
    if (resource !== undefined) {
      const what = attempt === undefined ? `use a ${resource} it needs` : attempt.doing;
      const grant = attempt === undefined ? `the ${resource} ACLs graphfold needs` : attempt.needs;
      return new AccessRefusedError(
        'authorization',
        `${cluster}: ${user} is not authorized to ${what} (${type}): grant ${spec.sasl === undefined ? 'its principal' : `User:${spec.sasl.username}`} ${grant}; graphfold topology describe prints every ACL graphfold needs`,
        { cause: error },
      );
    }
  }
  const certificate = certificateProblem(error);
  if (certificate !== undefined) {
    const broker = errors.map((e) => e['broker']).find((b): b is string => typeof b === 'string');
    return new AccessRefusedError(
      'tls',
      `${cluster}: TLS refused: the certificate of ${broker ?? 'the broker'} ${certificate.is} (${certificate.code}): ${certificate.fix.replace('tls.ca', 'kafka.tls.ca')}`,
      { cause: error },
    );
  }
  return undefined;
}

/**
 * Runs `work`; a refusal it meets is rethrown as an AccessRefusedError naming `attempt`; a
 * coordinator that could not be found as a {@link CoordinatorNotFoundError} (retried, and the
 * refusal once it repeats); anything else unchanged.
 */
export async function attempting<T>(spec: KafkaSpec, attempt: Attempt, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const refusal = accessRefusal(error, spec, attempt);
    if (refusal !== undefined) throw refusal;
    if (attempt.coordinated !== undefined && coordinatorMissed(error)) {
      const persistent = accessRefusal(error, spec, attempt, { coordinatorMisses: coordinatorMissesForRefusal }) as AccessRefusedError;
      throw new CoordinatorNotFoundError(`Kafka cluster at ${spec.brokers.join(',')}: no broker named the coordinator of ${attempt.coordinated} while trying to ${attempt.doing}`, persistent, {}, { cause: error });
    }
    throw error;
  }
}

/**
 * A promise that rejects with the first refusal `report` is given, and never settles otherwise:
 * raced against a start or a command, it ends them as soon as a client reports a certificate
 * that does not verify (see `kafka-client.ts`).
 */
export function refusalSignal(): { readonly report: (refusal: AccessRefusedError) => void; readonly refused: Promise<never> } {
  let report: (refusal: AccessRefusedError) => void = () => undefined;
  const refused = new Promise<never>((_, reject) => {
    report = reject;
  });
  refused.catch(() => undefined);
  return { report, refused };
}

/** The refusal an error of the schema registry is (401, 403, a certificate that does not verify), or undefined. */
export function registryRefusal(error: unknown, spec: RegistrySpec, doing: string): AccessRefusedError | undefined {
  if (error instanceof AccessRefusedError) return error;
  const registry = `schema registry at ${spec.url}`;
  const status = chain(error).map((e) => e['status']).find((s): s is number => typeof s === 'number');
  const user = spec.auth === undefined ? undefined : spec.auth.username;
  if (status === 401) {
    return new AccessRefusedError(
      'authentication',
      user === undefined
        ? `${registry} asks for credentials (401) to ${doing}: set registry.username and registry.password (or passwordFile) in the topology`
        : `${registry} refused the credentials of user ${user} (401) to ${doing}: check registry.username and the password (registry.password or passwordFile) in the topology`,
      { cause: error },
    );
  }
  if (status === 403) {
    return new AccessRefusedError('authorization', `${registry}: ${user === undefined ? 'graphfold' : `user ${user}`} may not ${doing} (403): give it the registry role that allows it`, { cause: error });
  }
  const certificate = certificateProblem(error);
  if (certificate !== undefined) {
    return new AccessRefusedError('tls', `${registry}: TLS refused: its certificate ${certificate.is} (${certificate.code}): ${certificate.fix.replace('tls.ca', 'registry.tls.ca')}`, { cause: error });
  }
  return undefined;
}
