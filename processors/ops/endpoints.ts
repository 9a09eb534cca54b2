import type { Instrumentation } from '../instrumentation/events';
import { Health, type Liveness, type Readiness } from './health';
import { OpsMetrics } from './metrics';

/**
 * What `/metrics`, `/healthz` and `/readyz` answer, for any HTTP server to mount: the query
 * server mounts them on its port; {@link startOpsServer} serves them alone when there is none.
 */
export interface OpsEndpoints {
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  live(): Liveness;
  ready(): Readiness;
}

/** The endpoints of a topology's processors, fed by `instrumentation`; `close` stops listening (idempotent). */
export function opsEndpoints(instrumentation: Instrumentation, processors: readonly string[]): OpsEndpoints & { close(): void } {
  const metrics = new OpsMetrics(instrumentation);
  const health = new Health(instrumentation, processors);
  return {
    metrics: () => metrics.text(),
    live: () => health.live(),
    ready: () => health.ready(),
    close: () => {
      metrics.close();
      health.close();
    },
  };
}
