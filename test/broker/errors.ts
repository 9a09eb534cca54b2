/**
 * Errors of the local cluster tooling. Each message names what went wrong and what to do about it,
 * in one line a CLI can print without a stack trace.
 */
export abstract class LocalClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A program the local cluster needs (Java, Maven) is missing or too old. */
export class MissingToolError extends LocalClusterError {
  /** What is missing, e.g. `Java 21 or newer`. */
  readonly tool: string;

  constructor(tool: string, purpose: string, remedy: string) {
    super(`${tool} is needed ${purpose} and was not found: ${remedy}`);
    this.tool = tool;
  }
}

/** Maven could not resolve or unpack an artifact. */
export class ArtifactFetchError extends LocalClusterError {}

/** A broker or registry process did not become ready; its log tail is in the message. */
export class ClusterStartError extends LocalClusterError {}

/** Another process holds the local cluster's lock for longer than we are prepared to wait. */
export class ClusterBusyError extends LocalClusterError {}

/** An option passed to the tooling is unusable (a cluster name with a slash, say). */
export class InvalidOptionError extends LocalClusterError {}
