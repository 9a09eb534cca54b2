import { clusterAddressLines, describeFailure } from './cli-output';
import { startLocalCluster } from './local-cluster';

/**
 * `npm run demo`, for now: brings up the local Kafka broker and schema registry and says where
 * they are. Running the graphfold processor on the demo topology is not wired yet; the processor
 * issue completes this demo.
 */
async function demo(): Promise<void> {
  const cluster = await startLocalCluster({ onProgress: (line) => process.stderr.write(`${line}\n`) });
  const lines = [
    cluster.reused ? 'The local cluster was already running.' : 'The local cluster is up.',
    ...clusterAddressLines(cluster),
    '',
    'Not wired yet: the graphfold processor. Once it is, this demo will run',
    '  graphfold run --topology topology/demo.yaml',
    'against this cluster, feed it example graph transactions and print the diffs.',
    '',
    'Stop the cluster with: npm run broker:stop',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

demo().catch((error: unknown) => {
  process.stderr.write(`error: ${describeFailure(error)}\n`);
  process.exitCode = 1;
});
