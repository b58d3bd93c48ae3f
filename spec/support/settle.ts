import { isOmniscientError } from 'omniscient-actors'

/** How a call ended (undefined: it resolved; else its error's code) and how long it took. */
export async function settle(call: Promise<unknown>): Promise<{ code: string | undefined; ms: number }> {
  const started = Date.now()
  try {
    await call
    return { code: undefined, ms: Date.now() - started }
  } catch (err) {
    return { code: isOmniscientError(err) ? err.code : String(err), ms: Date.now() - started }
  }
}
