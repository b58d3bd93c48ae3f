// The Game process manager across processes, on one SQLite file:
//   terminal 1: npm run game -- serve lobby alice bob      (the game: reacts to its players, live)
//   terminal 2: npm run game -- play alice die lava        (a player process: fires and exits)
//               npm run game -- play bob exit
// Stop the game with Ctrl-C, make players die meanwhile, start it again: it reacts to what it
// missed (durable listeners), and never twice to the same thing.
import { parseArgs } from 'node:util'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Game } from './Game.js'
import { Player } from './Player.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { db: { type: 'string', default: './.data/game.db' } },
})
const [command, ...rest] = positionals
const store = new SqliteStore({ file: values.db })
const container = createContainer({ store })

async function serve(room: string, players: string[]): Promise<void> {
  if (players.length === 0) throw new Error('usage: serve <room> <player> [player...]')
  // The banner first: reactions to what players did while the game was down follow at once.
  console.log(`game "${room}" is following ${players.join(', ')}, catching up on what they did meanwhile (Ctrl-C to stop)`)
  container.bus.subscribeAll((e) => console.log(`[${room}] ${e.name} ${JSON.stringify(e.data)} (caused by ${e.meta.causationId ?? '-'})`))
  const game = await container.actors.get(Game, room)
  for (const player of players) await game.Join(player)
  console.log(`loaded at version ${game.version}: respawns ${JSON.stringify(game._state.respawns)}, ejected ${game._state.ejected.join(', ') || 'none'}; waiting for players…`)
  await new Promise<void>((resolve) => process.once('SIGINT', resolve))
}

async function play(playerId: string, action: string, cause: string): Promise<void> {
  const player = await new Player(playerId, container).Load()
  if (action === 'die') await player.Die(cause)
  else if (action === 'exit') await player.Exit()
  else throw new Error('usage: play <player> die [cause] | exit')
  console.log(`${playerId}: ${action} (deaths ${player._state.deaths}, left ${String(player._state.left)})`)
  await player.Stop()
}

try {
  if (command === 'serve') await serve(rest[0] ?? 'lobby', rest.slice(1))
  else if (command === 'play') await play(rest[0] ?? '', rest[1] ?? '', rest[2] ?? 'unknown')
  else console.log('usage: npm run game -- serve <room> <players...> | play <player> die [cause] | play <player> exit')
} finally {
  await container.close()
}
