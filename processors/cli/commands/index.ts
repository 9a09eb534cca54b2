import type { Command } from '../command';
import { produceCommand } from './produce';
import { tailCommand } from './tail';
import { topologyCommand } from './topology';

/** The commands of `graphfold`, in the order the top-level help lists them. */
export const commands: readonly Command[] = [topologyCommand, produceCommand, tailCommand];
