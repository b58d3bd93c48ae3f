// One device of a player: follows the player live through a RemoteStore with a SQLite copy,
// and takes commands on stdin ("buy 5", "lose", "quit"), printing what it sees.
import { createInterface } from 'node:readline'
import { createContainer } from 'omniscient-actors'
import { RemoteStore } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { Player } from './Player.js'

export async function runDevice(name: string, url: string, token: string, user: string, copyFile: string): Promise<void> {
  const store = new RemoteStore({ url, token, local: new SqliteCopy({ file: copyFile }), backoff: { initialMs: 100, maxMs: 1_000 } })
  const container = createContainer({ store })
  const player = await container.actors.get(Player, `player:${user}`)
  const say = (text: string) => console.log(`[${name}] ${text}`)
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
      const bought = player.Buy(Number(arg ?? 1), name)
      // The prediction shows at once (as soon as the actor's mailbox runs it), online or not;
      // the server's answer comes later.
      setImmediate(() => say(`bought ${arg ?? 1}: shows lives ${player._state.lives} now`))
      bought.then((e) => say(`stored at version ${e.version}`), (err: Error) => say(`refused: ${err.message}`))
    }
    if (command === 'lose') player.LoseLife(name).catch((err: Error) => say(`refused: ${err.message}`))
  }
  clearInterval(watch)
  process.stdin.destroy()
  await player.Idle()
  await container.close()
}
