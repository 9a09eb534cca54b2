import { clusterAddressLines, describeFailure } from './cli-output';
import { localClusterStateDir, localClusterStatus, startLocalCluster, stopLocalCluster } from './local-cluster';
import type { LocalClusterOptions } from './local-cluster';

/**
 * `node dist/test/broker/cli.js start|stop|status [--name <cluster>] [--secured]`: the local Kafka
 * broker and schema registry from a shell. `--name test-cluster` addresses the one the tests
 * lease; `--secured` a secured one (SASL_SSL, ACLs, HTTPS registry with basic auth), by default
 * `secured-cluster`, the one the security tests lease. Exit code 0 on success, 1 with one
 * `error:` line on a known failure, 2 on bad usage.
 */

const usage = 'usage: node dist/test/broker/cli.js start|stop|status [--name <cluster>] [--secured]';

/** The options after the command, or undefined when they are malformed. */
function parseOptions(args: readonly string[]): { name?: string; secured: boolean } | undefined {
  let name: string | undefined;
  let secured = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--secured' && !secured) secured = true;
    else if (arg === '--name' && name === undefined && args[i + 1] !== undefined) name = args[++i];
    else return undefined;
  }
  return { ...(name === undefined ? {} : { name }), secured };
}

async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  const parsed = parseOptions(rest);
  if (parsed === undefined) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const { name, secured } = parsed;
  const options: LocalClusterOptions = {
    ...(name === undefined ? {} : { name }),
    secured,
    onProgress: (message) => process.stderr.write(`${message}\n`),
  };
  const stopHint = `npm run broker:stop${rest.length === 0 ? '' : ` -- ${rest.join(' ')}`}`;
  switch (command) {
    case 'start': {
      const cluster = await startLocalCluster(options);
      const lines = [
        cluster.reused ? 'The local cluster was already running.' : 'The local cluster is up.',
        ...clusterAddressLines(cluster),
        `Logs: ${cluster.kafkaLog}, ${cluster.registryLog}`,
        `Stop it with: ${stopHint}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
    case 'stop': {
      const { stopped } = await stopLocalCluster(options);
      process.stdout.write(stopped ? 'The local cluster is stopped and its data removed.\n' : 'No local cluster was running.\n');
      return 0;
    }
    case 'status': {
      const status = await localClusterStatus(options);
      if (status.state === 'running') {
        process.stdout.write(`${['running', ...clusterAddressLines(status)].join('\n')}\n`);
      } else if (status.state === 'stale') {
        process.stdout.write(`stale: ${status.reason}\n`);
      } else {
        process.stdout.write(`stopped (state in ${localClusterStateDir(options)})\n`);
      }
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${describeFailure(error)}\n`);
    process.exitCode = 1;
  },
);
