import { kafkaServerProperties, type BrokerSecurity } from '../../../test/broker/kafka-broker';

const parse = (text: string): Record<string, string> => Object.fromEntries(text.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));

const security: BrokerSecurity = {
  tls: { caPem: '/run/tls/ca.pem', untrustedCaPem: '/run/tls/untrusted-ca.pem', serverKeystore: '/run/tls/server.p12', wrongHostKeystore: '/run/tls/wrong-host.p12', expiredKeystore: '/run/tls/expired.p12', truststore: '/run/tls/truststore.p12', storePassword: 'store-pw' },
  wrongHostPort: 9101,
  expiredPort: 9102,
  users: { admin: 'admin-pw', broker: 'broker-pw', processor: 'processor-pw' },
  brokerUser: 'broker',
  superUsers: ['broker', 'admin'],
  controllerPassword: 'controller-pw',
};

describe('the local broker\'s settings', () => {
  test('plaintext: one PLAINTEXT listener and a controller, no authorizer', () => {
    const settings = parse(kafkaServerProperties({ dir: '/run/kafka', port: 9092, controllerPort: 9093 }));
    expect(settings['listeners']).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(settings['listener.security.protocol.map']).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT');
    expect(settings['authorizer.class.name']).toBeUndefined();
  });

  test('secured: SASL_SSL listeners only (SCRAM-SHA-512), the controller on SASL/PLAIN, the standard authorizer refusing what no ACL allows', () => {
    const settings = parse(kafkaServerProperties({ dir: '/run/kafka', port: 9092, controllerPort: 9093, security }));
    expect(settings['listeners']).toBe('CLIENT://127.0.0.1:9092,WRONG_HOST://127.0.0.1:9101,EXPIRED://127.0.0.1:9102,CONTROLLER://127.0.0.1:9093');
    expect(settings['listener.security.protocol.map']).toBe('CLIENT:SASL_SSL,WRONG_HOST:SASL_SSL,EXPIRED:SASL_SSL,CONTROLLER:SASL_PLAINTEXT');
    expect(settings['sasl.enabled.mechanisms']).toBe('SCRAM-SHA-512');
    expect(settings['authorizer.class.name']).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(settings['allow.everyone.if.no.acl.found']).toBe('false');
    expect(settings['super.users']).toBe('User:controller;User:broker;User:admin');
    expect(settings['ssl.keystore.location']).toBe('/run/tls/server.p12');
    expect(settings['listener.name.wrong_host.ssl.keystore.location']).toBe('/run/tls/wrong-host.p12');
    expect(settings['listener.name.expired.ssl.keystore.location']).toBe('/run/tls/expired.p12');
    expect(settings['listener.name.client.scram-sha-512.sasl.jaas.config']).toContain('username="broker" password="broker-pw"');
    expect(Object.values(settings).join('\n')).not.toContain('processor-pw');
  });
});
