import { expect } from 'chai'
import { createContainer, MemoryStore, type Container } from 'omniscient-actors'
import { UnknownIndexError, WaitForTimeoutError } from 'omniscient-actors/read'
import { FollowGraph } from '../../examples/follow/FollowGraph.js'
import { FollowProjection } from '../../examples/follow/FollowProjection.js'
import { User } from '../../examples/follow/User.js'

const quiet = () => {}

describe('ReadModel', () => {
  let container: Container
  beforeEach(() => {
    container = createContainer({ store: new MemoryStore(), report: quiet })
  })
  afterEach(() => container.close())

  async function follow(who: string, whom: string) {
    return (await new User(who, container).Load()).Follow(whom)
  }

  it('should keep documents by key from the events it handles, and answer waitFor once applied', async () => {
    const graph = await new FollowGraph(container).start()
    await follow('alice', 'bob')
    const last = await follow('carol', 'bob')
    await graph.waitFor(last)
    expect(await graph.get('alice')).to.deep.equal({ followers: [], following: ['bob'] })
    expect(await graph.get('bob')).to.equal(undefined) // WasFollowed comes from the projection
    await graph.stop()
  })

  it('should build from the events stored before it started (catch-up, then live)', async () => {
    await follow('alice', 'bob')
    await follow('alice', 'carol')
    const graph = await new FollowGraph(container).start()
    const projection = await new FollowProjection(container).start()
    const live = await follow('bob', 'carol')
    await projection.waitFor(live)
    await graph.waitFor(await container.store.headPosition())
    expect(await graph.get('carol')).to.deep.equal({ followers: ['alice', 'bob'], following: [] })
    expect(await graph.get('alice')).to.deep.equal({ followers: [], following: ['bob', 'carol'] })
    await projection.stop()
    await graph.stop()
  })

  it('should list documents in key order, a page at a time', async () => {
    const graph = await new FollowGraph(container).start()
    for (const who of ['d', 'a', 'c', 'b', 'e']) await follow(who, 'z')
    await graph.waitFor(await container.store.headPosition())
    const first = await graph.list({ limit: 2 })
    expect(first.docs.map((d) => d.key)).to.deep.equal(['a', 'b'])
    const second = await graph.list({ limit: 2, after: first.next! })
    expect(second.docs.map((d) => d.key)).to.deep.equal(['c', 'd'])
    const third = await graph.list({ limit: 2, after: second.next! })
    expect(third.docs.map((d) => d.key)).to.deep.equal(['e'])
    expect(third.next).to.equal(undefined)
    await graph.stop()
  })

  it('should find documents by a declared index, and refuse an undeclared one', async () => {
    const graph = await new FollowGraph(container).start()
    const projection = await new FollowProjection(container).start()
    await follow('a', 'star')
    await follow('b', 'star')
    await follow('c', 'star')
    await follow('a', 'b')
    const last = await follow('c', 'b')
    await projection.waitFor(last)
    await graph.waitFor(await container.store.headPosition())
    const top = await graph.find('followers', { gte: 1, order: 'desc', limit: 10 })
    expect(top.docs.map((d) => d.key)).to.deep.equal(['star', 'b'])
    expect((await graph.find('followers', { eq: 0 })).docs.map((d) => d.key)).to.deep.equal(['a', 'c'])
    let error: unknown
    await graph.find('nope').catch((err: unknown) => (error = err))
    expect(error).to.be.instanceOf(UnknownIndexError)
    await projection.stop()
    await graph.stop()
  })

  it('should reject waitFor with WaitForTimeoutError when it is not running anywhere', async () => {
    const graph = new FollowGraph(container)
    const event = await follow('a', 'b')
    let error: unknown
    await graph.waitFor(event, { timeoutMs: 20 }).catch((err: unknown) => (error = err))
    expect(error).to.be.instanceOf(WaitForTimeoutError)
  })
})
