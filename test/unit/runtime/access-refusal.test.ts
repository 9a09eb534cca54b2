import { KafkaJSConnectionError, KafkaJSGroupCoordinatorNotFound, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { FatalError, RetriableError } from '../../../processors/errors';
import { accessRefusal, AccessRefusedError, attempting, registryRefusal } from '../../../processors/runtime/access-refusal';
import { Secret } from '../../../processors/runtime/secret';
import type { KafkaSpec, RegistrySpec } from '../../../processors/runtime/topology';

const password = 'the-password-9d1c';
const spec: KafkaSpec = {
  brokers: ['k1:9093', 'k2:9093'],
  clientId: 'app',
  ssl: { rejectUnauthorized: true },
  sasl: { mechanism: 'scram-sha-512', username: 'svc', password: new Secret(password) },
  connectionTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};
const registry: RegistrySpec = { url: 'https://registry:8081', auth: { username: 'reg', password: new Secret(password) } };

/** kafkajs' protocol error for a Kafka error code, as its decoder makes it. */
const protocolError = (type: string, code: number): KafkaJSProtocolError => new KafkaJSProtocolError({ type, code, retriable: false, message: `Kafka says ${type}` } as unknown as Error);
/** kafkajs' error classes as its JavaScript builds them (its type declarations leave their constructors' arguments out). */
type ErrorClass = new (message: string | Error, options?: { cause?: unknown }) => Error;
const SaslError = KafkaJSSASLAuthenticationError as unknown as ErrorClass;
const NonRetriable = KafkaJSNonRetriableError as unknown as ErrorClass;
const CoordinatorNotFound = KafkaJSGroupCoordinatorNotFound as unknown as ErrorClass;

/** A Node TLS error wrapped the way kafkajs wraps it after its retries. */
const tlsFailure = (code: string): Error => {
  const connection = new KafkaJSConnectionError(`Connection error: TLS ${code}`, { broker: 'k1:9093', code });
  return new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 8, retryTime: 5000, cause: connection } as never);
};

describe('access refusals: the one place that tells refused credentials, ACLs and certificates from trouble worth retrying', () => {
  test('refused SASL credentials are an authentication refusal naming the user and what to check, never the password', () => {
    const sasl = new SaslError('SASL SCRAM SHA512 authentication failed: invalid credentials');
    const refusal = accessRefusal(new NonRetriable(sasl, { cause: sasl }), spec);
    expect(refusal).toBeInstanceOf(AccessRefusedError);
    expect(refusal).toBeInstanceOf(FatalError);
    expect(refusal?.retriable).toBe(false);
    expect(refusal?.kind).toBe('authentication');
    expect(refusal?.message).toBe(
      'Kafka cluster at k1:9093,k2:9093 refused the credentials of user svc (SASL scram-sha-512): check kafka.sasl.username and the password (kafka.sasl.password or passwordFile) in the topology; the broker said: SASL SCRAM SHA512 authentication failed: invalid credentials',
    );
    expect(refusal?.message).not.toContain(password);
  });

  test.each([
    ['TOPIC_AUTHORIZATION_FAILED', 29],
    ['GROUP_AUTHORIZATION_FAILED', 30],
    ['CLUSTER_AUTHORIZATION_FAILED', 31],
    ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 53],
  ])('%s is an authorization refusal that says what was attempted and what to grant', (type, code) => {
    const refusal = accessRefusal(protocolError(type, code), spec, { doing: 'write diffs to topic d', needs: 'Write on topic d' });
    expect(refusal?.kind).toBe('authorization');
    expect(refusal?.message).toBe(`Kafka cluster at k1:9093,k2:9093: user svc is not authorized to write diffs to topic d (${type}): grant User:svc Write on topic d; graphfold topology describe prints every ACL graphfold needs`);
  });

  test('"no group coordinator" is an authorization refusal only where a coordinator was being looked up, and only when it repeats (a broker restarting ends a lookup the same way)', () => {
    const notFound = new CoordinatorNotFound('Failed to find group coordinator');
    const joining = { doing: 'consume in in consumer group g', needs: 'Read on group g', coordinated: 'consumer group g' };
    expect(accessRefusal(notFound, spec)).toBeUndefined();
    expect(accessRefusal(notFound, spec, { doing: 'write diffs to topic d', needs: 'Write on topic d' })).toBeUndefined();
    expect(accessRefusal(notFound, spec, joining)).toBeUndefined();
    expect(accessRefusal(notFound, spec, joining, { coordinatorMisses: 2 })).toBeUndefined();
    const refusal = accessRefusal(notFound, spec, joining, { coordinatorMisses: 3 });
    expect(refusal?.kind).toBe('authorization');
    expect(refusal?.message).toContain('user svc is not authorized to consume in in consumer group g (the broker would not name the coordinator of consumer group g');
    expect(refusal?.message).toContain('grant User:svc Read on group g;');
  });

  test.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'is for another host name'],
    ['CERT_HAS_EXPIRED', 'has expired'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'is not signed by a CA graphfold trusts'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'is not signed by a CA graphfold trusts'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'is self-signed and not trusted'],
  ])('a certificate that does not verify (%s) is a TLS refusal, found through kafkajs wrappers', (code, is) => {
    const refusal = accessRefusal(tlsFailure(code), spec);
    expect(refusal?.kind).toBe('tls');
    expect(refusal?.message).toMatch(new RegExp(`^Kafka cluster at k1:9093,k2:9093: TLS refused: the certificate of k1:9093 ${is} \\(${code}\\): `));
  });

  test('anything else is not a refusal: the caller retries or reports it as before', () => {
    expect(accessRefusal(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { broker: 'k1:9093', code: 'ECONNREFUSED' }), spec)).toBeUndefined();
    expect(accessRefusal(protocolError('NOT_LEADER_OR_FOLLOWER', 6), spec)).toBeUndefined();
    expect(accessRefusal(new RetriableError('disk full'), spec)).toBeUndefined();
    expect(accessRefusal(new TypeError('a bug'), spec)).toBeUndefined();
  });

  test('attempting() names the attempt in the refusal it rethrows, and rethrows anything else unchanged', async () => {
    await expect(attempting(spec, { doing: 'commit', needs: 'Read on group g' }, () => Promise.reject(protocolError('GROUP_AUTHORIZATION_FAILED', 30)))).rejects.toThrow(
      'user svc is not authorized to commit (GROUP_AUTHORIZATION_FAILED): grant User:svc Read on group g;',
    );
    const other = new Error('something else');
    await expect(attempting(spec, { doing: 'commit', needs: 'x' }, () => Promise.reject(other))).rejects.toBe(other);
    await expect(attempting(spec, { doing: 'commit', needs: 'x' }, () => Promise.resolve(7))).resolves.toBe(7);
  });

  test('the registry: 401 refuses the credentials, 403 the role, a bad certificate the TLS; other answers are not refusals', () => {
    const answer = (status: number): Error => Object.assign(new Error(`graphfold - Error, status ${status}`), { status });
    expect(registryRefusal(answer(401), registry, 'register x')?.message).toBe(
      'schema registry at https://registry:8081 refused the credentials of user reg (401) to register x: check registry.username and the password (registry.password or passwordFile) in the topology',
    );
    expect(registryRefusal(answer(401), { url: 'https://registry:8081' }, 'register x')?.message).toBe(
      'schema registry at https://registry:8081 asks for credentials (401) to register x: set registry.username and registry.password (or passwordFile) in the topology',
    );
    expect(registryRefusal(answer(403), registry, 'register x')?.kind).toBe('authorization');
    expect(registryRefusal(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), registry, 'register x')?.message).toBe(
      'schema registry at https://registry:8081: TLS refused: its certificate has expired (CERT_HAS_EXPIRED): renew the certificate',
    );
    expect(registryRefusal(answer(500), registry, 'register x')).toBeUndefined();
    expect(registryRefusal(answer(404), registry, 'register x')).toBeUndefined();
  });
});
