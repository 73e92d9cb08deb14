/**
 * A map for the usual case of zero or one entry: the open turns of an actor, the tasks it
 * runs. A `Map` allocates its hash table (~150 B) on the first insert and keeps it, so
 * every actor that ever answered a request held one; this holds a single entry in two
 * fields and makes a `Map` only while two or more entries are present. Iteration is in
 * insertion order, as a `Map`'s.
 * @internal
 */
export class SmallMap<K, V> {
  private key: K | undefined = undefined;
  private value: V | undefined = undefined;
  private has1 = false;
  private map: Map<K, V> | undefined = undefined;

  get size(): number {
    return this.map ? this.map.size : this.has1 ? 1 : 0;
  }

  get(key: K): V | undefined {
    if (this.map) return this.map.get(key);
    return this.has1 && this.key === key ? this.value : undefined;
  }

  has(key: K): boolean {
    if (this.map) return this.map.has(key);
    return this.has1 && this.key === key;
  }

  set(key: K, value: V): void {
    if (this.map) {
      this.map.set(key, value);
    } else if (!this.has1 || this.key === key) {
      this.key = key;
      this.value = value;
      this.has1 = true;
    } else {
      this.map = new Map([
        [this.key as K, this.value as V],
        [key, value],
      ]);
      this.clear1();
    }
  }

  delete(key: K): boolean {
    const map = this.map;
    if (map) {
      const deleted = map.delete(key);
      // Back to fields when one entry is left, so the table goes. (The map holds two or more
      // entries, and one delete takes one, so it never empties here.)
      if (map.size === 1) {
        const [[k, v]] = map;
        this.map = undefined;
        this.key = k;
        this.value = v;
        this.has1 = true;
      }
      return deleted;
    }
    if (!this.has1 || this.key !== key) return false;
    this.clear1();
    return true;
  }

  /** The values, in insertion order, as a fresh array (safe to mutate the map while using it). */
  values(): V[] {
    if (this.map) return [...this.map.values()];
    return this.has1 ? [this.value as V] : [];
  }

  clear(): void {
    this.map = undefined;
    this.clear1();
  }

  private clear1(): void {
    this.key = undefined;
    this.value = undefined;
    this.has1 = false;
  }
}
