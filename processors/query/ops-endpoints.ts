import type { QueryBackend } from './backend';

/**
 * The operations endpoints the query server mounts, unauthenticated: /metrics (Prometheus text),
 * /healthz (the process lives) and /readyz (every partition this instance owns is restored).
 */
export interface OpsEndpoints {
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** Sent as the body (200 when `ok`, else 503). */
  live(): { readonly ok: boolean };
  /** Sent as the body (200 when `ok`, else 503). */
  ready(): { readonly ok: boolean };
}

/**
 * A minimal {@link OpsEndpoints} from the query backend alone: live while the process runs; ready
 * when every owned partition's task is open; metrics are the partitions by state. The runtime's
 * full operations module replaces it where the two are wired together.
 */
export function backendOps(backend: () => QueryBackend | undefined): OpsEndpoints {
  return {
    live: () => ({ ok: true }),
    ready() {
      const current = backend();
      if (current === undefined) return { ok: false, partitions: {}, reason: 'the processors are starting' };
      const partitions: Record<string, unknown> = {};
      for (const p of current.health()) partitions[`${p.processor}/${p.partition}`] = p.restore === undefined ? { state: p.state } : { state: p.state, restore: p.restore };
      // A standby replica is listed, but readiness is about the partitions this instance owns.
      return { ok: Object.values(partitions).every((p) => (p as { state: string }).state !== 'restoring'), partitions };
    },
    async metrics() {
      const health = backend()?.health() ?? [];
      const count = (state: string): number => health.filter((p) => p.state === state).length;
      const body = [
        '# HELP graphfold_partitions Partitions this instance owns, by state.',
        '# TYPE graphfold_partitions gauge',
        `graphfold_partitions{state="ready"} ${count('ready')}`,
        `graphfold_partitions{state="restoring"} ${count('restoring')}`,
        `graphfold_partitions{state="standby"} ${count('standby')}`,
        '',
      ].join('\n');
      return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body };
    },
  };
}
