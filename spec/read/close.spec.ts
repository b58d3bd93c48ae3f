import { expect } from 'chai'
import { join } from 'node:path'
import { createContainer, MemoryStore, SqliteStore } from 'omniscient-actors'
import { ContainerClosedError } from 'omniscient-actors/read'
import { FollowGraph } from '../../examples/follow/FollowGraph.js'
import { FollowProjection } from '../../examples/follow/FollowProjection.js'
import { User } from '../../examples/follow/User.js'
import { tempDir } from '../support/tmp.js'

// container.close() stops the read side with the actors: leases released while the store
// still answers, subscriptions ended, pending waitFor rejected with ContainerClosedError.

describe('closing the container under the read side', () => {
  const quiet = () => {}

  it('should stop running read models and projections and release their leases', async () => {
    const tmp = tempDir()
    try {
      const file = join(tmp.dir, 'read.db')
      const container = createContainer({ store: new SqliteStore({ file }), report: quiet })
      const graph = await new FollowGraph(container).start()
      const projection = await new FollowProjection(container).start()
      const followed = await (await new User('alice', container).Load()).Follow('bob')
      await projection.waitFor(followed)
      await graph.waitFor(await container.store.headPosition())
      expect(graph.progress().state).to.equal('live')
      await container.close()
      expect(graph.progress().state).to.equal('stopped')
      expect(projection.progress().state).to.equal('stopped')
      // Released, not left to expire: another process takes over at once.
      const next = new SqliteStore({ file })
      try {
        for (const lease of ['read/FollowGraph/v1', 'projection/FollowProjection']) {
          expect((await next.acquireLease(lease, 'next', 60_000, Date.now())).holder, lease).to.equal('next')
        }
      } finally {
        await next.close()
      }
    } finally {
      tmp.remove()
    }
  })

  it('should reject a pending waitFor with ContainerClosedError, running here or not, and one asked after', async () => {
    const container = createContainer({ store: new MemoryStore(), report: quiet })
    const running = await new FollowGraph(container).start()
    const querying = new FollowGraph(container)
    const projection = await new FollowProjection(container).start()
    const pending = [running.waitFor(1_000), querying.waitFor(1_000), projection.waitFor(1_000)].map((p) => p.then(() => undefined, (err: unknown) => err))
    await container.close()
    for (const err of await Promise.all(pending)) {
      expect(err).to.be.instanceOf(ContainerClosedError).and.to.include({ code: 'CONTAINER_CLOSED', position: 1_000 })
    }
    const after = await querying.waitFor(1).then(() => undefined, (err: unknown) => err)
    expect(after).to.be.instanceOf(ContainerClosedError)
  })
})
