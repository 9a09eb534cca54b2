declare module 'cytoscape-fcose' {
  import type { Ext } from 'cytoscape';

  /** The fCoSE layout extension (a CommonJS module without types of its own): registered with `cytoscape.use`. */
  const fcose: Ext;
  export = fcose;
}
