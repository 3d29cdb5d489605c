/**
 * Batches and results on a worker thread's own MessagePort: a lone number as text
 * (compact-forms.ts), other plain ones as they are, others as v8 bytes whose memory is
 * moved, not copied again (values.ts). A batch sent with a transfer list, and results
 * holding values a task moved, go by structured clone so that their buffers move, with the
 * positions of their Buffers so that those arrive as Buffers.
 */
import type { TransferListItem } from 'node:worker_threads';
import { ProtocolError } from '../errors.js';
import { entryArgs, entryCount, parseBatch, parseResults, type Batch, type Results } from './batch.js';
import { parseTextBatch, parseTextResults, textBatch, textResults } from './compact-forms.js';
import { takeMoved } from './moved.js';
import { allPlain, asBuffer, bufferPositions, fromBytes, toBytes } from './values.js';

export interface Posted {
  message: unknown;
  transfer: TransferListItem[] | undefined;
}

/** A message carrying moved buffers: the payload and where its Buffers were. */
interface Moving {
  moving: unknown;
  buffers: number[];
}

function bytes(value: unknown): Posted {
  const encoded = toBytes(value);
  return { message: encoded, transfer: [encoded.buffer as ArrayBuffer] };
}

/** A map chunk's items (an array) and its outcome ({ values, failed }) are plain this many levels down. */
const CHUNK_DEPTH = 2;

function plainBatch(batch: Batch): boolean {
  const depth = batch.each === undefined ? 0 : CHUNK_DEPTH;
  if (batch.one !== undefined) return allPlain(batch.one, depth);
  for (const args of batch.args!) if (!allPlain(args, depth)) return false;
  return true;
}

/** Buffers among a batch's arguments, as flat pairs (entry, argument). */
function batchBuffers(batch: Batch): number[] {
  const out: number[] = [];
  for (let i = 0; i < entryCount(batch); i++) {
    const args = batch.one !== undefined ? [batch.one[i]] : batch.args![i];
    for (const j of bufferPositions(args) ?? []) out.push(i, j);
  }
  return out;
}

export function packBatch(batch: Batch, transfer: readonly TransferListItem[] | undefined): Posted {
  const text = transfer === undefined ? textBatch(batch) : undefined;
  if (text !== undefined) return { message: text, transfer: undefined };
  if (transfer !== undefined) return { message: { moving: batch, buffers: batchBuffers(batch) } satisfies Moving, transfer: [...transfer] };
  return plainBatch(batch) ? { message: batch, transfer: undefined } : bytes(batch);
}

export function packResults(results: Results): Posted {
  const text = textResults(results);
  if (text !== undefined) return { message: text, transfer: undefined };
  const moved = takeMoved(results.values);
  if (moved !== undefined) {
    return { message: { moving: results, buffers: bufferPositions(results.values) ?? [] } satisfies Moving, transfer: moved };
  }
  return allPlain(results.values, CHUNK_DEPTH) ? { message: results, transfer: undefined } : bytes(results);
}

function isMoving(value: unknown): value is Moving {
  return value !== null && typeof value === 'object' && 'moving' in value && 'buffers' in value;
}

function unpack(message: unknown): { value: unknown; buffers: number[] | undefined } {
  if (message instanceof Uint8Array) return { value: fromBytes(message), buffers: undefined };
  if (!isMoving(message)) return { value: message, buffers: undefined };
  const { buffers } = message;
  if (!Array.isArray(buffers) || !buffers.every(Number.isInteger)) throw new ProtocolError('malformed buffer positions');
  return { value: message.moving, buffers };
}

export function unpackBatch(message: unknown): Batch {
  if (typeof message === 'string') return parseTextBatch(message);
  const { value, buffers } = unpack(message);
  const batch = parseBatch(value);
  if (buffers === undefined) return batch;
  const count = entryCount(batch);
  for (let k = 0; k + 1 < buffers.length; k += 2) {
    const [i, j] = [buffers[k], buffers[k + 1]];
    if (i < 0 || i >= count || j < 0 || j >= entryArgs(batch, i).length) throw new ProtocolError('buffer position out of range');
    if (batch.one !== undefined) (batch.one as unknown[])[i] = asBuffer(batch.one[i]);
    else (batch.args![i] as unknown[])[j] = asBuffer(batch.args![i][j]);
  }
  return batch;
}

export function unpackResults(message: unknown): Results {
  if (typeof message === 'string') return parseTextResults(message);
  const { value, buffers } = unpack(message);
  const results = parseResults(value);
  for (const i of buffers ?? []) {
    if (i < 0 || i >= results.values.length) throw new ProtocolError('buffer position out of range');
    (results.values as unknown[])[i] = asBuffer(results.values[i]);
  }
  return results;
}
