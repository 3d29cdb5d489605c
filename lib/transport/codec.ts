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
 * A small frame made only of values JSON carries exactly (finite numbers but -0, strings,
 * booleans, null, dense arrays and plain objects of them) goes as JSON text instead: for a
 * one-task batch or its results, writing and reading JSON took about 4 µs where v8 took 11,
 * and it leaves no buffer of its own per frame for the collector. The first byte tells the
 * two apart: v8's is always 0xFF, which UTF-8 text never holds. A connection sends JSON only
 * once both ends have agreed on a protocol version that reads it, so that a peer of an older
 * version still reads the introduction and is refused with both versions named.
 *
 * Deserializing builds plain data only: no constructors, getters or code from the peer run.
 */
import { types } from 'node:util';
import * as v8 from 'node:v8';
import { ProtocolError } from '../errors.js';

/** v8's version tag, the first byte of every body it writes. */
const V8_TAG = 0xff;
/**
 * At most this many values and characters of strings go as JSON; past them the check costs
 * more than it saves. JSON.stringify scans a string character by character, v8 copies it:
 * results holding one string, written and read, took 3.4 µs as JSON against 5.7 as v8 at 512
 * characters, about the same at 1,024, and 14.4 against 6.4 at 4,096.
 */
const JSON_MAX_VALUES = 256;
const JSON_MAX_CHARS = 1_024;

/** Whether JSON gives `value` back exactly, within what is left of `budget` (which it spends). */
function jsonExact(value: unknown, budget: { values: number; chars: number }): boolean {
  if (--budget.values < 0) return false;
  switch (typeof value) {
    case 'string':
      return (budget.chars -= value.length) >= 0;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      // v8 refuses a Proxy (the sender hears of it); JSON would read through it.
      if (types.isProxy(value)) return false;
      if (Array.isArray(value)) {
        if (value.length > budget.values || Object.getPrototypeOf(value) !== Array.prototype) return false;
        // Holes and extra properties: JSON would fill the first with null and drop the second.
        if (Object.keys(value).length !== value.length) return false;
        for (let i = 0; i < value.length; i++) if (!jsonExact(value[i], budget)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key of Object.keys(value)) {
        if ((budget.chars -= key.length) < 0 || !jsonExact((value as Record<string, unknown>)[key], budget)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Throws the serializer's own error (e.g. "… could not be cloned" for a function): that is
 * the sender's bug, reported to the sender, and nothing has been written yet. With `json`,
 * a small frame of JSON values goes as JSON text (only once the peer is known to read it).
 */
export function encode(value: unknown, json = false): Buffer {
  if (json && jsonExact(value, { values: JSON_MAX_VALUES, chars: JSON_MAX_CHARS })) return Buffer.from(JSON.stringify(value));
  return v8.serialize(value);
}

/** Bytes from the peer that do not deserialize are a protocol fault, never a crash. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new ProtocolError('cannot decode an empty frame body');
  try {
    if (bytes[0] === V8_TAG) return v8.deserialize(bytes);
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new ProtocolError(`undecodable frame body: ${(err as Error).message}`, err);
  }
}
