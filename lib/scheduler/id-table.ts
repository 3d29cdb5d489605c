/**
 * Values under increasing integer ids, found without a Map entry each: an array from the
 * oldest live id on. Ids are handed out in order and mostly settle in order, so the array
 * stays about as long as the span of ids in flight. An entry left far behind the rest (a
 * long task or a waiting actor call among many short ones) would stretch that span without
 * end: once the span passes `maxSpan`, the older half's live entries move to a Map of
 * stragglers, and the array starts after them.
 */
export class IdTable<T> {
  #items: (T | undefined)[] = [];
  /** The id of `#items[0]`. */
  #offset = 0;
  /** Index of the first item that may be live. */
  #head = 0;
  /** Live entries in `#items`. */
  #size = 0;
  /** Live entries with ids below `#offset`. */
  readonly #stragglers = new Map<number, T>();
  readonly #maxSpan: number;

  constructor(maxSpan = 65_536) {
    this.#maxSpan = maxSpan;
  }

  get size(): number {
    return this.#size + this.#stragglers.size;
  }

  /** Slots the array covers now (for tests: it stays near the ids in flight, at most about maxSpan). */
  get span(): number {
    return this.#items.length - this.#head;
  }

  /** `id` must be above every id set before. */
  set(id: number, value: T): void {
    if (this.#size === 0) {
      this.#items = [];
      this.#offset = id;
      this.#head = 0;
    }
    const index = id - this.#offset;
    while (this.#items.length < index) this.#items.push(undefined);
    this.#items.push(value);
    this.#size++;
    if (this.#items.length - this.#head > this.#maxSpan) this.#shed();
  }

  get(id: number): T | undefined {
    const index = id - this.#offset;
    if (index >= 0) return this.#items[index];
    return this.#stragglers.size > 0 ? this.#stragglers.get(id) : undefined;
  }

  delete(id: number): void {
    const index = id - this.#offset;
    if (index < 0) {
      this.#stragglers.delete(id);
      return;
    }
    const items = this.#items;
    if (index >= items.length || items[index] === undefined) return;
    items[index] = undefined;
    this.#size--;
    if (index !== this.#head) return;
    let head = index + 1;
    while (head < items.length && items[head] === undefined) head++;
    this.#head = head;
    // The settled prefix is dropped now and then, not for every id.
    if (head >= 1024 && head * 2 >= items.length) this.#cut(head);
  }

  *values(): IterableIterator<T> {
    yield* this.#stragglers.values();
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) if (items[i] !== undefined) yield items[i]!;
  }

  clear(): void {
    this.#items = [];
    this.#size = 0;
    this.#stragglers.clear();
  }

  /** Moves the live entries of the older half of the span to the stragglers. */
  #shed(): void {
    const items = this.#items;
    const middle = this.#head + ((items.length - this.#head) >> 1);
    for (let i = this.#head; i < middle; i++) {
      if (items[i] === undefined) continue;
      this.#stragglers.set(this.#offset + i, items[i]!);
      this.#size--;
    }
    let head = middle;
    while (head < items.length && items[head] === undefined) head++;
    this.#cut(head);
  }

  /** Drops the array before `head` (nothing live is left there). */
  #cut(head: number): void {
    this.#items = this.#items.slice(head);
    this.#offset += head;
    this.#head = 0;
  }
}
