/**
 * Values under increasing integer ids, found without a Map entry each: an array from the
 * oldest live id on. Ids are handed out in order and mostly settle in order, so the array
 * stays about as long as the span of ids in flight.
 */
export class IdTable<T> {
  #items: (T | undefined)[] = [];
  /** The id of `#items[0]`. */
  #offset = 0;
  /** Index of the first item that may be live. */
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
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
  }

  get(id: number): T | undefined {
    const index = id - this.#offset;
    return index >= 0 ? this.#items[index] : undefined;
  }

  delete(id: number): void {
    const index = id - this.#offset;
    const items = this.#items;
    if (index < 0 || index >= items.length || items[index] === undefined) return;
    items[index] = undefined;
    this.#size--;
    if (index !== this.#head) return;
    let head = index + 1;
    while (head < items.length && items[head] === undefined) head++;
    this.#head = head;
    // The settled prefix is dropped now and then, not for every id.
    if (head >= 1024 && head * 2 >= items.length) {
      this.#items = items.slice(head);
      this.#offset += head;
      this.#head = 0;
    }
  }

  *values(): IterableIterator<T> {
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) if (items[i] !== undefined) yield items[i]!;
  }

  clear(): void {
    this.#items = [];
    this.#size = 0;
  }
}
