/**
 * Settles as `call` does, or rejects with `late()` once `ms` have passed, whichever comes
 * first; what `call` does after that is ignored. For a store call that may wait in a queue
 * (an append behind a group still in flight): its caller gets an answer by the deadline
 * whatever the queue does.
 */
export function withDeadline<T>(call: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms)
  })
  call.catch(() => undefined)
  return Promise.race([call, expiry]).finally(() => clearTimeout(timer))
}
