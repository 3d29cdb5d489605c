/** The TCP transport: what the remote backend and the agent use. */
export { connect, Connection, FRAME_PING, FRAME_PONG, MIN_MESSAGE_TYPE, MAX_MESSAGE_TYPE } from './connection.js';
export type { ConnectionEvents } from './connection.js';
export { listen, TransportServer } from './server.js';
export type { TransportServerEvents } from './server.js';
export type { ConnectOptions, ListenOptions, TransportOptions, TransportTlsOptions } from './options.js';
