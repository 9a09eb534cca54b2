import { registryRequest, type RegistryResponse } from '../runtime/registry-client';
import type { RegistrySpec } from '../runtime/topology';
import { registryFailure } from './cluster-failure';
import type { TopicRole } from './topics';

/** The compatibility levels of the Confluent Schema Registry API. */
export type CompatibilityLevel = 'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

/** What a subject's compatibility must protect, by the role of its topic. */
export interface CompatibilityRule {
  /** The level `topology apply` sets on a subject that has none of its own. */
  readonly level: CompatibilityLevel;
  /** The levels that protect the readers as well; a subject already at one of them is left alone. */
  readonly accepted: readonly CompatibilityLevel[];
  /** Who reads what, for the report. */
  readonly protects: string;
}

/**
 * The rules (schemas/README.md, "Evolution"):
 * - an input subject is written by other teams' producers and read by graphfold, which reads every
 *   record with the schema it was built with: an *older* reader of newer writers. FORWARD checks
 *   exactly that (data written with a new version is readable with the previous ones), and
 *   TRANSITIVE makes it hold for every earlier version, since graphfold instances may be any
 *   release behind the producers. FULL_TRANSITIVE protects graphfold too and is accepted; it
 *   would also forbid producers harmless changes (a field of their own without a default).
 * - a diffs subject is the changelog, kept forever: downstream consumers with older schemas read
 *   new diffs (forward), and a restore or a new consumer reads diffs written years before with
 *   the current schema (backward), all the way back (transitive): FULL_TRANSITIVE.
 * - a rejections subject is read by dead-letter tooling built against some version and by tools
 *   replaying the topic: FULL_TRANSITIVE too (the code enum's default keeps new codes forward
 *   compatible).
 */
export const compatibilityRules: Readonly<Record<TopicRole, CompatibilityRule>> = {
  input: { level: 'FORWARD_TRANSITIVE', accepted: ['FORWARD_TRANSITIVE', 'FULL_TRANSITIVE'], protects: 'graphfold, which reads every version its producers register' },
  diffs: { level: 'FULL_TRANSITIVE', accepted: ['FULL_TRANSITIVE'], protects: 'downstream readers of every version, and restores that read the whole changelog' },
  rejections: { level: 'FULL_TRANSITIVE', accepted: ['FULL_TRANSITIVE'], protects: 'readers of rejections built against any version' },
};

/** A subject's compatibility as `topology apply` found and left it. */
export interface CompatibilityOutcome {
  readonly level: CompatibilityLevel;
  /** `set` by this apply, `ok` (one of the accepted levels already), or `mismatch` (left as it is: an error). */
  readonly action: 'set' | 'ok' | 'mismatch';
  /** What was there before, when this apply set it or found it wrong. */
  readonly found?: string;
  readonly error?: string;
}

/**
 * Reads and sets subject compatibility through the Confluent REST API (`/config`), which
 * `@kafkajs/confluent-schema-registry` does not expose.
 */
export class CompatibilityConfig {
  constructor(private readonly spec: RegistrySpec) {}

  /**
   * Makes a subject's compatibility one of the rule's accepted levels, unless it was set otherwise
   * on purpose. A subject with no level of its own (Confluent answers 404; Apicurio answers the
   * global level, so a level equal to the global one counts as inherited) gets the rule's level.
   */
  async ensure(subject: string, rule: CompatibilityRule): Promise<CompatibilityOutcome> {
    const [own, global] = await Promise.all([this.level(subject), this.level(undefined)]);
    if (own !== undefined && rule.accepted.includes(own as CompatibilityLevel)) return { level: own as CompatibilityLevel, action: 'ok' };
    if (own === undefined || own === global) {
      await this.set(subject, rule.level);
      return { level: rule.level, action: 'set', found: own === undefined ? 'none' : `${own} (the registry's default)` };
    }
    return {
      level: rule.level,
      action: 'mismatch',
      found: own,
      error: `compatibility is ${own}; graphfold needs ${rule.accepted.join(' or ')} to protect ${rule.protects} (schemas/README.md, "Evolution"): curl -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data '{"compatibility":"${rule.level}"}' ${this.spec.url}/config/${encodeURIComponent(subject)}`,
    };
  }

  /** A subject's level, or the global one (`subject` undefined); undefined when the registry has none for it. */
  async level(subject: string | undefined): Promise<string | undefined> {
    const response = await this.request('GET', subject, `read the compatibility of ${subject ?? 'the registry'}`);
    if (response.status === 404) return undefined;
    const body = (await response.json()) as { compatibilityLevel?: unknown; compatibility?: unknown };
    const level = body.compatibilityLevel ?? body.compatibility;
    return typeof level === 'string' ? level.toUpperCase() : undefined;
  }

  async set(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.request('PUT', subject, `set the compatibility of ${subject} to ${level}`, { compatibility: level });
  }

  private async request(method: 'GET' | 'PUT', subject: string | undefined, doing: string, body?: unknown): Promise<RegistryResponse> {
    let response: RegistryResponse;
    try {
      response = await registryRequest(this.spec, method, `/config${subject === undefined ? '' : `/${encodeURIComponent(subject)}`}`, body);
    } catch (error) {
      throw registryFailure(error, this.spec, doing);
    }
    if (response.ok || (method === 'GET' && response.status === 404)) return response;
    const text = await response.text().catch(() => '');
    throw registryFailure(Object.assign(new Error(`HTTP ${response.status} ${text}`.trim()), { status: response.status }), this.spec, doing);
  }
}
