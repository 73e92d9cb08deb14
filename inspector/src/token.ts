/**
 * The gateway's bearer token for the page: from the `?token=` of the URL `interlock serve`
 * prints (then kept in localStorage and removed from the address bar, so it is not left in
 * history, bookmarks or screenshots), else the one kept from before, else asked for once
 * (when the server answers 401) and kept.
 */
const KEY = 'interlock.inspector.token';

export interface TokenStore {
  get(): string | undefined;
  set(token: string): void;
  forget(): void;
}

export function tokenStore(storage: Storage | undefined, location: Location, history: History): TokenStore {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  let token = fromUrl ?? safeGet(storage) ?? undefined;
  if (fromUrl !== null) {
    safeSet(storage, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  return {
    get: () => (token === '' ? undefined : token),
    set(t) {
      token = t;
      safeSet(storage, t);
    },
    forget() {
      token = undefined;
      try {
        storage?.removeItem(KEY);
      } catch {
        // Storage disabled (private mode, policy): the token was only in memory.
      }
    },
  };
}

function safeGet(storage: Storage | undefined): string | null {
  try {
    return storage?.getItem(KEY) ?? null;
  } catch {
    // Storage disabled: nothing kept from before.
    return null;
  }
}

function safeSet(storage: Storage | undefined, token: string): void {
  try {
    storage?.setItem(KEY, token);
  } catch {
    // Storage disabled or full: the token stays in memory for this page.
  }
}
