import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * compose.yaml cannot run here (no Docker engine), so it is checked by a real Compose
 * implementation: `docker compose config` (v2) where the plugin exists, else `docker-compose config`
 * (v1, Debian's docker-compose package, which .ci/run installs). Both parse, validate against the
 * Compose schema and resolve the file, and fail on any mistake in it.
 */
const composeFile = resolve(__dirname, '..', '..', 'compose.yaml');

function composeCommand(): { command: string; prefix: string[] } {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return { command: 'docker', prefix: ['compose'] };
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return { command: 'docker-compose', prefix: [] };
  throw new Error('no Compose implementation to validate compose.yaml with: install one (Debian: apt-get install -y docker-compose)');
}

interface ComposeService {
  readonly image?: string;
  readonly build?: { readonly context?: string; readonly dockerfile?: string } | string;
  readonly volumes?: (string | { readonly source?: string; readonly target?: string })[];
  readonly command?: string[] | string;
  readonly depends_on?: Record<string, { condition?: string }> | string[];
  readonly environment?: Record<string, string | number | null>;
}

describe('compose.yaml', () => {
  const { command, prefix } = composeCommand();
  const result = spawnSync(command, [...prefix, '-f', composeFile, 'config'], { encoding: 'utf8' });

  test('is a valid Compose file', () => {
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.not.stringMatching(/invalid|error/i) });
  });

  test('runs a KRaft Kafka, a Confluent Schema Registry and graphfold on the demo topology', () => {
    const services = (parse(result.stdout) as { services: Record<string, ComposeService> }).services;
    expect(Object.keys(services).sort()).toEqual(['graphfold', 'graphfold-setup', 'kafka', 'schema-registry']);
    expect(services['kafka']?.image).toMatch(/^apache\/kafka:4\./);
    expect(services['kafka']?.environment?.['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    expect(services['schema-registry']?.image).toMatch(/^confluentinc\/cp-schema-registry:/);
    const graphfold = services['graphfold'];
    expect([graphfold?.command].flat().join(' ')).toBe('run --topology topology/demo.yaml');
    expect(graphfold?.image).toBe('graphfold:local');
    const setup = services['graphfold-setup'];
    expect(setup?.build).toMatchObject({ dockerfile: 'topology/docker/Dockerfile' });
    expect(setup?.image).toBe('graphfold:local');
    expect([setup?.command].flat().join(' ')).toBe('topology apply --topology topology/demo.yaml');
    expect(graphfold?.environment).toMatchObject({ KAFKA_BROKERS: 'kafka:29092', SCHEMA_REGISTRY_URL: 'http://schema-registry:8081' });
    expect(graphfold?.depends_on).toEqual({
      kafka: expect.objectContaining({ condition: 'service_healthy' }),
      'schema-registry': expect.objectContaining({ condition: 'service_healthy' }),
      'graphfold-setup': expect.objectContaining({ condition: 'service_completed_successfully' }),
    });
    expect(graphfold?.volumes?.map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`)).join(' ')).toContain(':/var/lib/graphfold');
  });
});
