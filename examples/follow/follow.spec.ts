import { expect } from 'chai'
import { createContainer, MemoryStore } from 'omniscient-actors'
import { FollowGraph } from './FollowGraph.js'
import { FollowProjection } from './FollowProjection.js'
import { User } from './User.js'

describe('the follow example', () => {
  it('should show followers and following of both users once the projection derived WasFollowed', async () => {
    const container = createContainer({ store: new MemoryStore() })
    const projection = await new FollowProjection(container).start()
    const graph = await new FollowGraph(container).start()
    const followed = await (await new User('alice', container).Load()).Follow('bob')
    await projection.waitFor(followed)
    await graph.waitFor(await container.store.headPosition())
    expect(await graph.get('alice')).to.deep.equal({ followers: [], following: ['bob'] })
    expect(await graph.get('bob')).to.deep.equal({ followers: ['alice'], following: [] })
    expect((await graph.find('followers', { gte: 1 })).docs.map((d) => d.key)).to.deep.equal(['bob'])
    await projection.stop()
    await graph.stop()
    await container.close()
  })
})
