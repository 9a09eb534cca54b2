import { takeProvidedCluster } from './cluster-provider';

/** jest's global teardown of the integration project: gives the cluster back. */
async function globalTeardown(): Promise<void> {
  await takeProvidedCluster()?.release();
}

// jest takes the teardown function as the module itself.
export = globalTeardown;
