/**
 * Frames on the TCP wire, after the handshake:
 *
 *   length (uint32 BE, counts every byte after itself) | version (1) | type (1) | body
 *
 * Pure byte handling, no I/O, so every split and every bad header can be tested byte by byte.
 */
import { FrameTooLargeError, ProtocolError } from '../errors.js';

export const PROTOCOL_VERSION = 1;
/** Bytes of the length field. */
export const LENGTH_BYTES = 4;
/** Bytes of length + version + type, before the body. */
export const HEADER_BYTES = 6;
/** The smallest legal length field: version and type, empty body. */
export const MIN_FRAME_LENGTH = 2;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The length field is 32 bits wide, so no setting can go past this. */
export const MAX_FRAME_BYTES_LIMIT = 0xffff_ffff;
/**
 * Once this much of one body has arrived in pieces, the body gets one buffer of its full
 * length and later pieces are copied straight in. A buffer that large comes from its own
 * mapping, which goes back to the system when freed; thousands of socket-sized pieces
 * would instead be scattered over the allocator's heap, whose freed middle is never
 * returned (a peer hoarding partial frames could then raise RSS for good). Below it,
 * pieces are kept as they came, so a lying header costs only what was really sent, and
 * the address space claimed is at most (budget ÷ this) × maxFrameBytes.
 */
export const GATHER_FROM_BYTES = 1024 * 1024;

export interface Frame {
  type: number;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

function checkType(type: number): void {
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw new RangeError(`a frame type is an integer from 0 to 255 (got ${type})`);
  }
}

/**
 * A buffer of the header of a frame whose body is `bodyBytes` long, and room for `room` bytes
 * after it. Throws before allocating anything if the type or the length is out of range.
 */
function withHeader(type: number, bodyBytes: number, room: number): Buffer {
  checkType(type);
  if (MIN_FRAME_LENGTH + bodyBytes > MAX_FRAME_BYTES_LIMIT) {
    throw new FrameTooLargeError(MIN_FRAME_LENGTH + bodyBytes, MAX_FRAME_BYTES_LIMIT);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + room);
  frame.writeUInt32BE(MIN_FRAME_LENGTH + bodyBytes, 0);
  frame[4] = PROTOCOL_VERSION;
  frame[5] = type;
  return frame;
}

/**
 * The 6 header bytes alone, so that a large body can be handed to the socket next to it
 * (one writev) instead of being copied behind it.
 */
export function encodeFrameHeader(type: number, bodyBytes: number): Buffer {
  return withHeader(type, bodyBytes, 0);
}

/** A frame whose body is `text` in UTF-8, written straight behind its header. */
export function encodeTextFrame(type: number, text: string): Buffer {
  const bytes = Buffer.byteLength(text);
  const frame = withHeader(type, bytes, bytes);
  frame.write(text, HEADER_BYTES, bytes, 'utf8');
  return frame;
}

export function encodeFrame(type: number, body: Uint8Array = EMPTY): Buffer {
  const frame = withHeader(type, body.byteLength, body.byteLength);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * One buffer of `length` bytes holding `parts` at its start (they may fill less of it). It starts as
 * far into its memory, modulo 16, as the first part does into its own, so that each copy
 * goes between addresses aligned alike: a body starts 6 bytes into its first chunk, and the
 * CPU's fast copy slows down between misaligned addresses (joining a 64 KiB body cost 2.5
 * times the copy of an aligned one).
 */
function joined(parts: readonly Buffer[], length: number): Buffer {
  const skew = parts.length === 0 ? 0 : parts[0].byteOffset & 15;
  const body = Buffer.allocUnsafeSlow(skew + length).subarray(skew);
  let at = 0;
  for (const part of parts) at += part.copy(body, at);
  return body;
}

export interface FrameDecoderOptions {
  /** Largest accepted length field (version + type + body). @default 64 MiB */
  maxFrameBytes?: number;
}

/**
 * Turns a stream of chunks into frames. Each byte is copied at most once: a body that
 * lies inside one chunk is returned as a view of it, a body spread over chunks is joined
 * once (when its last byte arrives, or into one buffer from GATHER_FROM_BYTES on). Memory
 * held for a frame in progress is what has arrived, never what the header claims, so a
 * lying header costs nothing.
 *
 * After the first fault the decoder stays broken: the stream position is unknown, and the
 * only sane answer is to drop the connection.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFill = 0;
  #type = 0;
  /** Body bytes still expected; -1 while reading a header. */
  #bodyLength = -1;
  #parts: Buffer[] = [];
  #partsFill = 0;
  /** The body's own buffer, once GATHER_FROM_BYTES of it have arrived. */
  #gathered: Buffer | undefined;
  #fault: Error | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes received that do not yet form a complete frame. */
  get bufferedBytes(): number {
    return this.#headerFill + this.#partsFill;
  }

  /** Feeds one chunk; returns the frames it completed, in order. Throws on a bad header. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#fault) throw this.#fault;
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: Frame[] = [];
    let at = 0;
    try {
      while (at < data.length) {
        if (this.#bodyLength < 0) {
          if (this.#headerFill === 0 && data.length - at >= HEADER_BYTES) {
            this.#readHeader(data, at);
            at += HEADER_BYTES;
          } else {
            const take = Math.min(HEADER_BYTES - this.#headerFill, data.length - at);
            data.copy(this.#header, this.#headerFill, at, at + take);
            this.#headerFill += take;
            at += take;
            if (this.#headerFill < HEADER_BYTES) break;
            this.#headerFill = 0;
            this.#readHeader(this.#header, 0);
          }
          if (this.#bodyLength === 0) this.#complete(frames, EMPTY);
          continue;
        }
        const take = Math.min(this.#bodyLength - this.#partsFill, data.length - at);
        const piece = data.subarray(at, at + take);
        at += take;
        if (this.#partsFill === 0 && take === this.#bodyLength) {
          this.#complete(frames, piece);
        } else {
          this.#keep(piece);
          if (this.#partsFill === this.#bodyLength) {
            const body = this.#gathered ?? joined(this.#parts, this.#partsFill);
            this.#dropParts();
            this.#complete(frames, body);
          }
        }
      }
    } catch (err) {
      this.#fault = err as Error;
      this.#dropParts();
      throw err;
    }
    return frames;
  }

  #keep(piece: Buffer): void {
    if (this.#gathered === undefined && this.#partsFill + piece.length >= GATHER_FROM_BYTES) {
      // pages of a fresh mapping are only resident once written: RSS follows what arrived
      this.#gathered = joined(this.#parts, this.#bodyLength);
      this.#parts = [];
    }
    if (this.#gathered) piece.copy(this.#gathered, this.#partsFill);
    else this.#parts.push(piece);
    this.#partsFill += piece.length;
  }

  #dropParts(): void {
    this.#parts = [];
    this.#partsFill = 0;
    this.#gathered = undefined;
  }

  #readHeader(source: Buffer, at: number): void {
    const length = source.readUInt32BE(at);
    if (length < MIN_FRAME_LENGTH) {
      throw new ProtocolError(`frame length ${length} is below the minimum of ${MIN_FRAME_LENGTH}`);
    }
    if (length > this.#maxFrameBytes) throw new FrameTooLargeError(length, this.#maxFrameBytes);
    const version = source[at + 4];
    if (version !== PROTOCOL_VERSION) {
      throw new ProtocolError(`unsupported protocol version ${version} (expected ${PROTOCOL_VERSION})`);
    }
    this.#type = source[at + 5];
    this.#bodyLength = length - MIN_FRAME_LENGTH;
  }

  #complete(frames: Frame[], body: Buffer): void {
    frames.push({ type: this.#type, body });
    this.#bodyLength = -1;
  }
}
