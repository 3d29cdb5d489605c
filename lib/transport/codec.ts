/**
 * Frame bodies are V8's serialization format, the one the thread and process channels use
 * for any value that is not a plain primitive, so a value sent to a thread, a process or
 * a remote agent arrives the same way (Buffers, typed arrays, Map, Set, Date, BigInt,
 * RegExp, cycles), and an uncloneable value (a function, a WeakMap) fails loudly at the
 * sender instead of arriving as `undefined` or `{}`. msgpackr is faster per frame
 * (bench/codec.ts), but it changes such values silently and would be a runtime
 * dependency; and a different codec on the wire would narrow what survives the trip to
 * an agent's workers to the intersection of the two.
 *
 * Deserializing builds plain data only: no constructors, getters or code from the peer run.
 */
import * as v8 from 'node:v8';
import { ProtocolError } from '../errors.js';

/**
 * Throws the serializer's own error (e.g. "… could not be cloned" for a function): that is
 * the sender's bug, reported to the sender, and nothing has been written yet.
 */
export function encode(value: unknown): Buffer {
  return v8.serialize(value);
}

/** Bytes from the peer that do not deserialize are a protocol fault, never a crash. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new ProtocolError('cannot decode an empty frame body');
  try {
    return v8.deserialize(bytes);
  } catch (err) {
    throw new ProtocolError(`undecodable frame body: ${(err as Error).message}`, err);
  }
}

