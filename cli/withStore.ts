import type { StorageAdapter } from '../node.js'
import { openStore } from './storeUrl.js'

/** Opens the store, runs `work`, and closes the store whatever happened. */
export async function withStore<T>(url: string, options: { readonly mustExist: boolean }, work: (store: StorageAdapter) => Promise<T>): Promise<T> {
  const store = await openStore(url, options)
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
