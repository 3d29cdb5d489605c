import { debuglog } from 'node:util';

/** One switch for the transport's diagnostics: NODE_DEBUG=troupe. */
export const debug = debuglog('troupe');
