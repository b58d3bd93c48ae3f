/**
 * Starts `call` and settles as it does, or rejects with `late()` once `ms` have passed,
 * whichever comes first; what the call does after that is ignored. The deadline of the
 * stores' calls: a query, a transaction, an append waiting behind a group still in flight, a
 * connection being opened. `late` runs when the deadline passes, so it may also discard what
 * the call was using. The deadline starts before the call: a timer of the same length that the
 * call sets itself (a driver's connect timeout) fires after it, so the deadline's error wins.
 */
export function withDeadline<T>(call: () => Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms)
  })
  const answer = call()
  answer.catch(() => undefined)
  return Promise.race([answer, expiry]).finally(() => clearTimeout(timer))
}
