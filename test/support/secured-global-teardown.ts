import { releaseSecuredCluster } from './secured-cluster-lease';

/** jest's global teardown of the security project: gives the secured cluster back. */
async function securedGlobalTeardown(): Promise<void> {
  await releaseSecuredCluster();
}

// jest takes the teardown function as the module itself.
export = securedGlobalTeardown;
