// One device of a player: follows the player live through a RemoteStore with a SQLite copy,
// and takes commands on stdin ("buy 5", "lose", "quit"), printing what it sees.
import { createInterface } from 'node:readline'
import { createContainer } from 'omniscient-actors'
import { RemoteStore } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { Player } from './Player.js'

export async function runDevice(name: string, url: string, token: string, user: string, copyFile: string): Promise<void> {
  const say = (text: string) => console.log(`[${name}] ${text}`)
  const store = new RemoteStore({ url, token, local: new SqliteCopy({ file: copyFile }), backoff: { initialMs: 100, maxMs: 1_000 } })
  // Lost connections are retried; one short line each instead of a stack trace.
  const container = createContainer({ store, report: (err, where) => say(`${where.where}: ${(err as Error).message}`) })
  const player = await container.actors.get(Player, `player:${user}`)
  say(`lives ${player._state.lives} (version ${player.version})`)
  store.onStatus((s) => say(`status: ${s.connected ? 'online' : 'offline'}, ${s.queued} queued, position ${s.lastPosition}`))
  let seen = player.version
  const watch = setInterval(() => {
    if (player.version === seen) return
    seen = player.version
    say(`lives ${player._state.lives} (version ${seen}, last change from ${player._state.lastDevice ?? '?'})`)
  }, 5)

  for await (const line of createInterface({ input: process.stdin })) {
    const [command, arg] = line.trim().split(/\s+/)
    if (command === 'quit') break
    if (command === 'buy') {
      say(`buying ${arg ?? 1}`)
      // The prediction shows at once (the watch prints it), online or not; the server's answer
      // comes later.
      player.Buy(Number(arg ?? 1), name).then(
        (e) => say(`stored at version ${e.version}`),
        // CLOSED: this device quit first; the payment stays queued for its next start.
        (err: Error & { code?: string }) => say(err.code === 'CLOSED' ? 'still queued for the next start' : `refused: ${err.message}`),
      )
    }
    if (command === 'lose') player.LoseLife(name).catch((err: Error) => say(`refused: ${err.message}`))
  }
  clearInterval(watch)
  process.stdin.destroy()
  await player.Idle()
  await container.close()
}
