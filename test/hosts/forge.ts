/**
 * Every post-authentication frame the hostile host sends, in one place: message shapes
 * belong to the remote protocol and change with it, so only this module knows them. It
 * builds on the real transport (`connect`, the frame encoder), so what it sends is what an
 * authenticated but malicious or broken peer could send.
 */
import { randomUUID } from 'node:crypto';
import { AGENT_HELLO, AGENT_LOST, AGENT_PROTOCOL_VERSION, AGENT_RESULTS } from '../../lib/backends/remote-protocol.js';
import { encode } from '../../lib/transport/codec.js';
import { encodeFrame, encodeFrameHeader } from '../../lib/transport/framing.js';

/** An agent's introduction: with it a hostile peer is treated as an agent and may be sent work. */
export function helloFrame(names: string[], capacity = 4): Buffer {
  return encodeFrame(AGENT_HELLO, encode({
      version: AGENT_PROTOCOL_VERSION,
      agentId: randomUUID(),
      hostname: 'hostile',
      pid: process.pid,
      names,
      parallelism: 1,
      capacity,
      mode: 'thread',
  }));
}

/** A graph of AggregateErrors, `levels` deep, each level referencing the next `fanOut` times. */
export function errorGraph(levels = 9, fanOut = 10): object {
  let node: object = { name: 'Error', message: 'leaf' };
  for (let i = 1; i < levels; i++) node = { name: 'AggregateError', message: `level ${i}`, errors: Array(fanOut).fill(node) };
  return node;
}

function sparse(length: number): unknown[] {
  const a: unknown[] = [];
  a.length = length;
  return a;
}

/** Frames an authenticated hostile agent sends after its hello: each raw bytes of one frame. */
export function postAuthFrames(): { what: string; bytes: Buffer }[] {
  const frame = (type: number, value: unknown) => encodeFrame(type, encode(value));
  return [
    { what: 'results for tasks never given', bytes: frame(AGENT_RESULTS, { r: [1e9, 0, 'x', 1e9 + 1, 0, 'y'], busy: 0 }) },
    { what: 'a result whose error is a 9-level DAG', bytes: frame(AGENT_RESULTS, { r: [123456, 1, errorGraph()], busy: 0 }) },
    { what: 'a lost report whose error is a DAG', bytes: frame(AGENT_LOST, { ids: [], reason: 'died', error: errorGraph() }) },
    { what: 'a sparse results array of length 2^32-1', bytes: frame(AGENT_RESULTS, { r: sparse(2 ** 32 - 1), busy: 0 }) },
    { what: 'a sparse AGENT_LOST ids of length 2^32-1', bytes: frame(AGENT_LOST, { ids: sparse(2 ** 32 - 1), reason: 'died', error: {} }) },
  ];
}

/** A frame header claiming `bytes` of body: what a huge partial frame starts with. */
export function hugeFrameHeader(bytes: number): Buffer {
  return encodeFrameHeader(AGENT_RESULTS, bytes);
}

export const PING_FRAME = encodeFrame(0);
