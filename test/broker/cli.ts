import { clusterAddressLines, describeFailure } from './cli-output';
import { localClusterStateDir, localClusterStatus, startLocalCluster, stopLocalCluster } from './local-cluster';

/**
 * `node dist/test/broker/cli.js start|stop|status`: the local Kafka broker and schema registry from
 * a shell. Exit code 0 on success, 1 with one `error:` line on a known failure, 2 on bad usage.
 */

const usage = 'usage: node dist/test/broker/cli.js start|stop|status';

async function main(command: string | undefined): Promise<number> {
  const progress = (message: string): void => {
    process.stderr.write(`${message}\n`);
  };
  switch (command) {
    case 'start': {
      const cluster = await startLocalCluster({ onProgress: progress });
      process.stdout.write(`${[cluster.reused ? 'The local cluster was already running.' : 'The local cluster is up.', ...clusterAddressLines(cluster)].join('\n')}\n`);
      process.stdout.write(`Logs: ${cluster.kafkaLog}, ${cluster.registryLog}\nStop it with: npm run broker:stop\n`);
      return 0;
    }
    case 'stop': {
      const { stopped } = await stopLocalCluster({ onProgress: progress });
      process.stdout.write(stopped ? 'The local cluster is stopped and its data removed.\n' : 'No local cluster was running.\n');
      return 0;
    }
    case 'status': {
      const status = await localClusterStatus();
      if (status.state === 'running') {
        process.stdout.write(`${['running', ...clusterAddressLines(status)].join('\n')}\n`);
      } else if (status.state === 'stale') {
        process.stdout.write(`stale: ${status.reason}\n`);
      } else {
        process.stdout.write(`stopped (state in ${localClusterStateDir()})\n`);
      }
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${describeFailure(error)}\n`);
    process.exitCode = 1;
  },
);
