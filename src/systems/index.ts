/** Every system a scenario can name. */
import type { SystemDef } from '../core/system.ts';
import { bokiSystem } from './boki.ts';
import { halfmoonSystem } from './halfmoon.ts';
import { registerSystem } from './register.ts';

export const SYSTEMS: Readonly<Record<string, SystemDef<any>>> = {
  register: registerSystem,
  boki: bokiSystem,
  halfmoon: halfmoonSystem,
};
