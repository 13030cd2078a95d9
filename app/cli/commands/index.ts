/** The commands `halfmoon` offers, in the order `--help` lists them. Add new ones here. */
import { benchCommand } from './bench.ts';
import { huntCommand } from './hunt.ts';
import { mergeCommand } from './merge.ts';
import { suiteCommand } from './suite.ts';
import { checkCommand } from './check.ts';
import { clusterCommand } from './cluster.ts';
import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { proveCommand } from './prove.ts';
import { replayCommand } from './replay.ts';
import { reproduceCommand } from './reproduce.ts';
import { runCommand } from './run.ts';
import { scenariosCommand } from './scenarios.ts';
import { shrinkCommand } from './shrink.ts';
import { sweepCommand } from './sweep.ts';
import type { Command } from './types.ts';
import { unseedCommand } from './unseed.ts';
import { variantsCommand } from './variants.ts';
import { viewCommand } from './view.ts';
// Registers the replayer of explorer traces ('source: explore') with `halfmoon replay`.
import '../../../sim/explore/trace.ts';

export const COMMANDS: readonly Command[] = [
  demoCommand,
  runCommand,
  sweepCommand,
  unseedCommand,
  suiteCommand,
  mergeCommand,
  huntCommand,
  replayCommand,
  shrinkCommand,
  checkCommand,
  proveCommand,
  viewCommand,
  exportCommand,
  scenariosCommand,
  variantsCommand,
  benchCommand,
  clusterCommand,
  reproduceCommand,
];
