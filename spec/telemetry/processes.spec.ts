import { expect } from 'chai'
import { z } from 'zod'
import { Actor, createContainer, defineEvents, type Container } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { openStore } from '../support/openStore.js'
import { startWorker, waitUntil } from '../support/processes.js'
import { registerSdk, spanLine, type SpanLine, type TestSdk } from '../support/telemetry.js'
import { tempDir } from '../support/tmp.js'

const SourceEvents = defineEvents({ fact: z.object({ n: z.number() }) })
class Source extends Actor<typeof SourceEvents> {
  static events = SourceEvents
}

describe('a trace across processes', function () {
  this.timeout(60_000)
  let sdk: TestSdk | undefined
  let tmp: ReturnType<typeof tempDir>
  let container: Container | undefined
  let worker: ReturnType<typeof startWorker> | undefined
  beforeEach(() => (tmp = tempDir()))
  afterEach(async () => {
    worker?.kill('SIGKILL')
    await worker?.exited
    await container?.close()
    await sdk?.shutdown()
    tmp.remove()
  })

  it('should make the reaction of a listener in another process part of the trace of the Fire it reacts to', async () => {
    const file = `${tmp.dir}/store.db`
    sdk = registerSdk()
    container = createContainer({ store: openStore(file) })
    worker = startWorker('tracedMirror', [file])
    await waitUntil(() => worker!.lines.includes('ready'), 30_000, 'the mirror to start')

    const stored = await new Source('source', container).Fire('fact', { n: 1 })
    const fire = sdk.spans.getFinishedSpans().map(spanLine).find((s) => s.name === 'fire fact')!
    const theirs = (): SpanLine[] => worker!.lines.filter((l) => l.startsWith('span ')).map((l) => JSON.parse(l.slice(5)) as SpanLine)
    await waitUntil(() => theirs().some((s) => s.name === 'process fact'), 30_000, "the mirror's reaction span")

    const reaction = theirs().find((s) => s.name === 'process fact')!
    const mirrored = theirs().find((s) => s.name === 'fire mirrored')!
    const append = theirs().find((s) => s.name === 'append')!
    expect(stored.meta.traceparent).to.equal(`00-${fire.traceId}-${fire.spanId}-01`)
    expect(reaction).to.include({ traceId: fire.traceId, parentSpanId: fire.spanId })
    expect(reaction.attributes).to.include({ 'messaging.consumer.group.name': 'mirror<-source', 'messaging.message.id': stored.id })
    expect(mirrored).to.include({ traceId: fire.traceId, parentSpanId: reaction.spanId })
    expect(append).to.include({ traceId: fire.traceId, parentSpanId: mirrored.spanId })
    expect(append.attributes).to.include({ 'db.system.name': 'sqlite' })
    const [copy] = await collect(container.store.readStream('mirror'))
    expect(copy!.meta).to.include({ causationId: stored.id, traceparent: `00-${fire.traceId}-${mirrored.spanId}-01` })
  })
})
