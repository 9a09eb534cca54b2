import { setTimeout as sleep } from 'node:timers/promises';
import { classify, ClusterUnreachableError, CoordinatorNotFoundError, coordinatorMissesForRefusal, coordinatorMissSpanMs, FatalError, type FailureSite, type GraphfoldError } from './errors';

/**
 * The one retry policy of graphfold: only what {@link classify} calls retriable is retried, with
 * exponential backoff and jitter; everything else (a refused credential, a wrong setting, a bug)
 * is thrown at once. Kept by hand rather than taken from a library because the budget rule is
 * graphfold's own: waiting for an unreachable cluster does not use up the budget, failing while
 * it answers does.
 */
export interface BackoffPolicy {
  /** The first delay. */
  readonly initialMs: number;
  /** No delay is longer. */
  readonly maxMs: number;
  /** Each delay is this times the one before. */
  readonly multiplier: number;
  /** Each delay is moved at random by up to this fraction either way (0.2: ±20%), so instances that failed together do not retry together. */
  readonly jitter: number;
}

/** Backoff of a partition that failed: 0.5 s, 1 s, 2 s, ... up to 30 s, ±20%. */
export const taskBackoff: BackoffPolicy = Object.freeze({ initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.2 });

/** Waiting for an unreachable cluster: short delays, so that processing resumes soon after it is back. */
export const unreachableBackoff: BackoffPolicy = Object.freeze({ initialMs: 250, maxMs: 2_000, multiplier: 2, jitter: 0.2 });

/** The delay before retry number `attempt` (1 for the first retry). */
export function backoffMs(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(base * (1 + policy.jitter * (2 * random() - 1))));
}

/**
 * Consecutive failures to find a coordinator: they count as the broker refusing to name it (a
 * missing ACL) once there are {@link coordinatorMissesForRefusal} of them over
 * {@link coordinatorMissSpanMs} at least; fewer, or faster, is a broker restarting.
 */
export class CoordinatorMisses {
  private count = 0;
  private since: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a miss; true when the misses now count as a refusal. */
  missed(): boolean {
    const now = this.now();
    this.since ??= now;
    this.count += 1;
    return this.count >= coordinatorMissesForRefusal && now - this.since >= coordinatorMissSpanMs;
  }

  reset(): void {
    this.count = 0;
    this.since = undefined;
  }
}

/**
 * What one partition (or any long-lived operation) has been failing at, so that repeated
 * failures at the same place back off and, past a time budget, stop with the place and the cause.
 * A success (`succeeded`) clears it; reopening a task is not a success.
 */
export class FailureBudget {
  private since: number | undefined;
  private attempts = 0;
  private unreachable = 0;
  private readonly coordinatorMisses: CoordinatorMisses;
  private last: GraphfoldError | undefined;

  constructor(
    /** How long failures may go on (unreachable time aside) before {@link failed} gives up. */
    private readonly budgetMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.coordinatorMisses = new CoordinatorMisses(now);
  }

  /** The failures since the last success. */
  get failures(): number {
    return this.attempts + this.unreachable;
  }

  get lastError(): GraphfoldError | undefined {
    return this.last;
  }

  /**
   * Records a failure. Returns how long to wait before trying again, or a FatalError when the
   * error is not retriable or the budget is spent (`where` names the place: `offset 42`).
   */
  failed(error: GraphfoldError, where: string): { readonly retryInMs: number } | { readonly fatal: FatalError } {
    this.last = error;
    if (!error.retriable) return { fatal: error instanceof FatalError ? error : new FatalError(error.message, error.context, { cause: error }) };
    if (!(error instanceof CoordinatorNotFoundError)) this.coordinatorMisses.reset();
    else if (this.coordinatorMisses.missed()) return { fatal: error.ifPersistent };
    if (error instanceof ClusterUnreachableError) {
      this.unreachable += 1;
      return { retryInMs: backoffMs(unreachableBackoff, this.unreachable) };
    }
    const now = this.now();
    this.since ??= now;
    this.attempts += 1;
    const spent = now - this.since;
    if (spent > this.budgetMs) {
      return {
        fatal: new FatalError(
          `gave up at ${where} after ${this.attempts} failures in ${Math.round(spent / 1000)} s (taskTimeoutMs is ${this.budgetMs}): ${error.message}; fix the cause and start again, nothing is lost`,
          error.context,
          { cause: error },
        ),
      };
    }
    return { retryInMs: backoffMs(taskBackoff, this.attempts) };
  }

  /** A success: the next failure starts a new budget. */
  succeeded(): void {
    this.since = undefined;
    this.attempts = 0;
    this.unreachable = 0;
    this.coordinatorMisses.reset();
    this.last = undefined;
  }
}

export interface RetryOptions {
  readonly site: FailureSite;
  /** @default taskBackoff */
  readonly policy?: BackoffPolicy;
  /** Retries at most this many times (unreachable waits included). @default unlimited */
  readonly retries?: number;
  /** Aborting stops the waiting and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called before each wait, with the classified error. */
  readonly onRetry?: (error: GraphfoldError, attempt: number, delayMs: number) => void;
}

/**
 * Runs `operation` until it succeeds, retrying what {@link classify} calls retriable with
 * backoff and jitter; throws the classified error when it is not retriable or the retries are
 * spent.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = options.policy ?? taskBackoff;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (thrown) {
      const error = classify(thrown, options.site);
      if (!error.retriable || attempt > (options.retries ?? Number.POSITIVE_INFINITY)) throw error;
      const delayMs = backoffMs(error instanceof ClusterUnreachableError ? unreachableBackoff : policy, attempt);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, undefined, options.signal === undefined ? undefined : { signal: options.signal });
    }
  }
}
