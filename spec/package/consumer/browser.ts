// A consumer's browser page: two tabs' worth of LiveActors on one MemoryStore, bundled by
// esbuild for the browser from the installed tarball (no better-sqlite3, no node: modules).
import { z } from 'zod'
import { LiveActor, MemoryStore, createContainer, defineEvents, type Container, type EventData, type Handlers } from 'omniscient-actors'

const CounterEvents = defineEvents({ added: z.object({ by: z.number().int(), who: z.string() }) })
type E = typeof CounterEvents

class Counter extends LiveActor<E, { total: number; last?: string }> implements Handlers<E> {
  static events = CounterEvents
  constructor(id: string, container: Container) {
    super(id, container)
    this._state.total = 0
  }
  Add(by: number, who: string) {
    return this.Fire('added', { by, who })
  }
  added(data: EventData<E, 'added'>): void {
    this._state.total += data.by
    this._state.last = data.who
  }
}

async function main(): Promise<object> {
  const store = new MemoryStore()
  const left = createContainer({ store })
  const right = createContainer({ store })
  const a = await left.actors.get(Counter, 'the-counter')
  const b = await right.actors.get(Counter, 'the-counter')
  const stored = await a.Add(2, 'left')
  await b.Add(3, 'right')
  const deadline = Date.now() + 5_000
  while (a._state.total !== 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  const result = { left: { ...a._state }, right: { ...b._state }, following: a.Following && b.Following, eventId: stored.id }
  await Promise.all([left.close(), right.close()])
  return result
}

const out = document.getElementById('out')!
main().then(
  (result) => {
    out.textContent = `LiveActor on MemoryStore, in ${navigator.userAgent.includes('Chrome') ? 'Chromium' : 'a browser'}:\n${JSON.stringify(result, null, 2)}`
    ;(window as unknown as { result: object }).result = result
  },
  (err: unknown) => {
    out.textContent = `failed: ${String(err)}`
    ;(window as unknown as { result: object }).result = { error: String(err) }
  },
)
