// The page of spec/sync/browser.spec.ts: a LiveActor on a RemoteStore with an IndexedDB copy.
import { createContainer } from 'omniscient-actors'
import { IndexedDbCopy, RemoteStore } from 'omniscient-actors/sync'
import { Tally } from '../../support/Tally.js'

declare const document: { body: { textContent: string | null } }

const params = new URLSearchParams(location.search)
const store = new RemoteStore({
  url: params.get('sync')!,
  token: 'token-alice',
  local: new IndexedDbCopy('spec-device'),
  backoff: { initialMs: 50, maxMs: 300 },
})
const tally = await new Tally('tally', createContainer({ store, report: () => {} })).Load()
const fired: string[] = []

function render(): void {
  const s = store.status
  document.body.textContent = `total ${tally._state.total} | ${s.connected ? 'online' : 'offline'} | queued ${s.queued} | position ${s.lastPosition} | order ${tally._state.order.join(' ')}`
}
store.onStatus(render)
setInterval(render, 20)
render()

Object.assign(globalThis, {
  app: {
    total: () => tally._state.total,
    order: () => [...tally._state.order],
    status: () => store.status,
    fired: () => fired,
    fire: (n: number) => {
      tally.Fire('counted', { by: 'page', n }, { id: `page-event-${n}` }).then(
        (e) => fired.push(`stored ${n} at ${e.version}`),
        (err: Error) => fired.push(`refused ${n}: ${err.message}`),
      )
    },
  },
})
