import DataLoader from 'dataloader';

/**
 * A loader for rows by key: one query per batch (`WHERE id = ANY($1)`), results
 * in key order, null for keys with no row.
 */
export function rowLoader<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (row: V) => K): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map(rows.map((r) => [keyOf(r), r]));
    return keys.map((k) => byKey.get(k) ?? null);
  });
}

/** A loader for lists by owner key (bookings of each user, ...): one query per batch. */
export function listLoader<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (row: V) => K): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map<K, V[]>(keys.map((k) => [k, []]));
    for (const r of rows) byKey.get(keyOf(r))?.push(r);
    return keys.map((k) => byKey.get(k)!);
  });
}

/**
 * Loaders made on first use and kept for one request. Fields with arguments
 * (`upcomingBookings(first: 5)`) get one loader per distinct argument set, so a
 * list of users asking the same thing still costs one query.
 */
export class RequestLoaders {
  #loaders = new Map<string, unknown>();
  get<L>(key: string, make: () => L): L {
    let loader = this.#loaders.get(key) as L | undefined;
    if (!loader) {
      loader = make();
      this.#loaders.set(key, loader);
    }
    return loader;
  }
}
