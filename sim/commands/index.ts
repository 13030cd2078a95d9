/** The commands `halfmoon` offers, in the order `--help` lists them. Add new ones here. */
import { benchCommand } from './bench.ts';
import { demoCommand } from './demo.ts';
import { clusterCommand } from './cluster.ts';
import { exportCommand } from './export.ts';
import { replayCommand } from './replay.ts';
import { runCommand } from './run.ts';
import { scenariosCommand } from './scenarios.ts';
import { sweepCommand } from './sweep.ts';
import type { Command } from './types.ts';
import { variantsCommand } from './variants.ts';
import { viewCommand } from './view.ts';

export const COMMANDS: readonly Command[] = [demoCommand, runCommand, sweepCommand, replayCommand, viewCommand, exportCommand, scenariosCommand, variantsCommand, benchCommand, clusterCommand];
