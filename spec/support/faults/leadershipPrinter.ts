/**
 * A probe process's printer of its believed leadership: each call prints `lead <term> <ms>` or
 * `follow <ms>` if it changed since the last (spec/support/faults/History.ts reads them). Call it
 * on a short timer, and before any line that depends on it.
 */
export function leadershipPrinter(actor: { readonly IsLeader: boolean; readonly Term: number }): () => void {
  let believed = -1
  return () => {
    const term = actor.IsLeader ? actor.Term : 0
    if (term === believed) return
    believed = term
    console.log(term > 0 ? `lead ${term} ${Date.now()}` : `follow ${Date.now()}`)
  }
}
