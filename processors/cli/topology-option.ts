import type { OptionSpec } from './arguments';

/** `--topology <file>`, which every command takes. */
export const topologyOption = {
  kind: 'string',
  value: '<file>',
  description: 'the topology file (YAML), e.g. topology/demo.yaml',
  required: true,
} as const satisfies OptionSpec;
