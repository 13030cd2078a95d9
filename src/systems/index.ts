/**
 * Every system a scenario can name: the built-ins register themselves through `defineSystem`
 * when their modules load (in this order), plugins afterwards through the same function.
 */
import './register.ts';
import './boki.ts';
import './halfmoon.ts';

export { SYSTEMS, defineSystem, systemNames } from './registry.ts';
