// The sync server of the devices example: one SQLite file, one player per user.
import { createServer } from 'node:http'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { bearerTokens, serveSync } from 'omniscient-actors/sync-server'
import { PlayerEvents } from './Player.js'

/** Demo tokens: two devices of alice, one of bob. Real deployments check sessions or JWTs here. */
export const DEVICE_TOKENS = { 'alice-phone-demo-token': 'alice', 'alice-laptop-demo-token': 'alice', 'bob-phone-demo-token': 'bob' }

export async function startServer(file: string, port: number): Promise<{ url: string; close: () => Promise<void> }> {
  const container = createContainer({ store: new SqliteStore({ file }) })
  const sync = serveSync<string>(container, {
    authenticate: bearerTokens(DEVICE_TOKENS),
    // Each user reads and writes their own player only.
    authorize: ({ user, action, streamId }) => action !== 'lease' && (streamId === undefined || streamId === `player:${user}`),
    events: [PlayerEvents],
    prefix: '/sync',
  })
  const server = createServer(sync)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${port}/sync`,
    async close() {
      await sync.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await container.close()
    },
  }
}
