// `npm start`: the login service on the embedded default store. Run it twice: the second run
// continues from what the first one stored.
import { createContainer, SqliteStore, type EventEnvelope } from 'omniscient-actors'
import { Player } from './Player.js'
import { User } from './User.js'

const file = process.env['OMNISCIENT_DB'] ?? './.data/login.db'
const store = new SqliteStore({ file })
const container = createContainer({ store })

function audit(e: EventEnvelope): void {
  const when = new Date(e.at).toISOString()
  console.log(`  #${String(e.position).padStart(4)}  ${when}  ${e.streamId} v${e.version}  ${e.name} ${JSON.stringify(e.data) ?? ''}`)
}

async function main(): Promise<void> {
  console.log(`omniscient-actors login example, store: ${file}`)
  const before = await store.headPosition()
  console.log(before === 0 ? 'first run: the store is empty' : `the store already holds ${before} events; continuing`)
  container.bus.subscribeAll(audit)

  console.log('\naudit trail of this run:')
  const alice = await container.actors.get(User, 'alice')
  if (alice._state.username === undefined) await alice.SignUp('correct horse')
  await alice.DoLoginAttempt('wrong guess', { ua: 'example' })
  const token = await alice.DoLoginAttempt('correct horse', { ua: 'example' })
  await alice.DoGetPayment(7)

  // The player is the same id seen by the game: it gains lives from alice's payments.
  const player = await container.actors.get(Player, 'alice')
  await player.Die('fell into lava')

  const mallory = await container.actors.get(User, 'mallory')
  if (mallory._state.username === undefined) await mallory.SignUp('s3cret')
  for (let i = 0; i < 3 && !mallory._state.too_many_tries; i++) await mallory.DoLoginAttempt('guess', { ua: 'bot' })

  console.log('\nstate now:')
  console.log(`  alice:   logged in ${String(alice._state.logged_in)} (token ${token === false ? 'none' : token.slice(0, 8) + '…'}), paid ${alice._state.total_paid} in all`)
  console.log(`  player:  ${player._state.lives} lives, ${player._state.credit} credit toward the next, ${player._state.deaths} deaths`)
  console.log(`  mallory: locked ${String(mallory._state.too_many_tries)}`)

  // A fresh actor replaying the stream agrees with the one that fired the events.
  const replayed = await new Player('alice', container).Load()
  await replayed.Stop()
  console.log(`\nreplayed from the store: player has ${replayed._state.lives} lives at version ${replayed.version}`)
  console.log(`the store now holds ${await store.headPosition()} events; run \`npm start\` again to continue`)
}

try {
  await main()
} finally {
  await container.close() // stops the live actors, then closes the store
}
