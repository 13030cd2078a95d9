/**
 * Lenses by system name (the trace header's `system`). Register a new system's lens here; the
 * viewer falls back to the generic view for systems without one.
 */
import type { SystemLens } from '../lens.ts';
import { halfmoonLens } from './halfmoon.ts';
import { registerLens } from './register.ts';

const LENSES: ReadonlyMap<string, SystemLens> = new Map([
  [registerLens.system, registerLens],
  [halfmoonLens.system, halfmoonLens],
]);

export function lensFor(system: string | null | undefined): SystemLens | null {
  return (system && LENSES.get(system)) || null;
}

export function knownLenses(): string[] {
  return [...LENSES.keys()];
}
