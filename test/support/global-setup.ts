import { holdProvidedCluster, provideCluster } from './cluster-provider';
import { publishCluster } from './environment';

/** jest's global setup of the integration project: provides the cluster and publishes it to the workers. */
async function globalSetup(): Promise<void> {
  const provided = await provideCluster((line) => process.stderr.write(`[integration cluster] ${line}\n`));
  publishCluster(provided.addresses);
  holdProvidedCluster(provided);
}

// jest takes the setup function as the module itself.
export = globalSetup;
