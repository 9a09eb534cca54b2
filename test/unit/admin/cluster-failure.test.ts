import { clusterFailure, registryFailure } from '../../../processors/admin/cluster-failure';
import { FatalError, RetriableError } from '../../../processors/errors';

describe('failures talking to the cluster', () => {
  const kafka = { brokers: ['k1:9092', 'k2:9092'], clientId: 'app', ssl: false, connectionTimeoutMs: 1, requestTimeoutMs: 1 } as const;

  test('a kafkajs error becomes a retriable error naming the cluster and what to check', () => {
    const cause = new Error('Connection error: connect ECONNREFUSED k1:9092');
    const error = clusterFailure(cause, kafka, 'connect');
    expect(error).toBeInstanceOf(RetriableError);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      'Kafka cluster at k1:9092,k2:9092: cannot connect: Connection error: connect ECONNREFUSED k1:9092; check that the brokers are up and reachable, and kafka.brokers, kafka.tls and kafka.sasl in the topology',
    );
    expect(registryFailure(new Error('socket hang up'), { url: 'http://r:8081' }, 'look up a schema').message).toBe(
      'schema registry at http://r:8081: cannot look up a schema: socket hang up; check that it is up, and registry.url (and its credentials) in the topology',
    );
  });

  test('a graphfold error passes through as it is', () => {
    const own = new FatalError('already explained');
    expect(clusterFailure(own, kafka, 'connect')).toBe(own);
  });
});
