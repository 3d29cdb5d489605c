import { debuglog } from 'node:util';

/** One switch for Troupe's diagnostics: NODE_DEBUG=troupe. */
export const debug = debuglog('troupe');
