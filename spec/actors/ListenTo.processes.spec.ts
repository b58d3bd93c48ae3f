import { expect } from 'chai'
import { freshTarget, openStore, processStoreKinds } from '../support/openStore.js'
import { startWorker, waitUntil } from '../support/processes.js'
import { collect, newEvent } from '../store/conformance.js'

for (const kind of processStoreKinds) describe(`a durable listener across kill -9, on ${kind.name}`, function () {
  this.timeout(60_000)
  const fresh = freshTarget(kind)

  it('should miss nothing and store each reaction once after being killed and restarted', async () => {
    const file = fresh.target
    const store = openStore(file)
    const total = 200
    let written = 0
    const write = async (n: number) => {
      for (const stop = written + n; written < stop; written++) {
        await store.append('source', [newEvent('fact', { n: written })], { expectedVersion: written })
        if (written % 5 === 0) await new Promise((r) => setTimeout(r, 1))
      }
    }

    const first = startWorker('durableMirror', [file])
    await waitUntil(() => first.lines.includes('ready'), 30_000, 'the mirror to start')
    await write(120)
    await waitUntil(() => first.lines.filter((l) => l === 'copied').length >= 40, 30_000, 'some copies')
    first.kill('SIGKILL')
    await first.exited
    await write(total - 120) // while the mirror is down

    const second = startWorker('durableMirror', [file])
    await waitUntil(() => second.lines.includes('ready'), 30_000, 'the mirror to restart')
    const done = async () => (await store.streamVersion('mirror')) === total
    const lastSource = (await collect(store.readStream('source'))).at(-1)!.position
    const caughtUp = async () => (await done()) && (await store.loadCheckpoint('mirror<-source')) === lastSource
    for (const deadline = Date.now() + 30_000; !(await caughtUp()); ) {
      if (Date.now() > deadline) throw new Error(`mirror has ${await store.streamVersion('mirror')} of ${total}`)
      await new Promise((r) => setTimeout(r, 10))
    }
    second.kill('SIGKILL')
    await second.exited

    const sources = (await collect(store.readStream('source'))).map((e) => e.id)
    const copies = await collect(store.readStream('mirror'))
    expect(copies.map((e) => e.meta.causationId)).to.deep.equal(sources)
    expect(copies.map((e) => (e.data as { of: string }).of)).to.deep.equal(sources)
    await store.close()
  })
})
