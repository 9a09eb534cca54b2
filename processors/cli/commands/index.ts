import type { Command } from '../command';
import { followCommand } from './follow';
import { produceCommand } from './produce';
import { queryCommand } from './query';
import { repairCommand } from './repair';
import { resetCommand } from './reset';
import { runCommand } from './run';
import { schemaCommand } from './schema';
import { tailCommand } from './tail';
import { topologyCommand } from './topology';

/** The commands of `graphfold`, in the order the top-level help lists them. */
export const commands: readonly Command[] = [runCommand, followCommand, topologyCommand, produceCommand, tailCommand, queryCommand, schemaCommand, repairCommand, resetCommand];
