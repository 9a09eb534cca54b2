import { leaseSecuredCluster } from './secured-cluster-lease';

/** jest's global setup of the security project: the secured cluster, leased and published to the workers. */
async function securedGlobalSetup(): Promise<void> {
  await leaseSecuredCluster((line) => process.stderr.write(`[secured cluster] ${line}\n`));
}

// jest takes the setup function as the module itself.
export = securedGlobalSetup;
