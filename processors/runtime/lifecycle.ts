import { FatalError } from '../errors';

/**
 * An explicit state machine: the states, and from each the states it may move to. A move the
 * table does not allow throws, naming what, from where and to where.
 */
export class Lifecycle<S extends string> {
  private state: S;

  constructor(
    private readonly what: string,
    initial: S,
    private readonly transitions: Readonly<Record<S, readonly S[]>>,
  ) {
    this.state = initial;
  }

  get current(): S {
    return this.state;
  }

  is(...states: readonly S[]): boolean {
    return states.includes(this.state);
  }

  to(next: S): void {
    if (!this.transitions[this.state].includes(next)) throw new FatalError(`${this.what} cannot go from ${this.state} to ${next} (a bug in graphfold)`);
    this.state = next;
  }
}
