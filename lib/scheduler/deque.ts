/**
 * A FIFO ring buffer that also takes items back at the front (re-queued tasks go first)
 * and lets a consumer take an item from further in, leaving a hole that is skipped.
 */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #length = 0;

  /** Slots in use, holes included. */
  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** The item `index` places from the front, or undefined for a hole. */
  at(index: number): T | undefined {
    return index < this.#length ? this.#items[(this.#head + index) & (this.#items.length - 1)] : undefined;
  }

  peek(): T | undefined {
    this.#skipHoles();
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  shift(): T | undefined {
    this.#skipHoles();
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  /** Takes the item `index` places from the front, leaving a hole: other indices stay valid. */
  take(index: number): T | undefined {
    const slot = (this.#head + index) & (this.#items.length - 1);
    const item = this.#items[slot];
    this.#items[slot] = undefined;
    return item;
  }

  /** Drops the holes at the front (indices from before it no longer hold). */
  trim(): void {
    this.#skipHoles();
  }

  /** Keeps only the items `keep` accepts, in order, and drops the holes. */
  compact(keep: (item: T) => boolean): void {
    const kept = this.clear().filter(keep);
    for (const item of kept) this.push(item);
  }

  clear(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#length; i++) {
      const item = this.#items[(this.#head + i) & (this.#items.length - 1)];
      if (item !== undefined) out.push(item);
    }
    this.#items = new Array(16);
    this.#head = 0;
    this.#length = 0;
    return out;
  }

  #skipHoles(): void {
    while (this.#length > 0 && this.#items[this.#head] === undefined) {
      this.#head = (this.#head + 1) & (this.#items.length - 1);
      this.#length--;
    }
  }

  #grow(): void {
    const old = this.#items;
    const items: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.#length; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}
