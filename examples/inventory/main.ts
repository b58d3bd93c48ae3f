// A OneActor across processes: a stock that must never be oversold.
//   npm run inventory -- restock 100          (once)
//   npm run inventory -- sell 40 & npm run inventory -- sell 40 & npm run inventory -- sell 40
// Each seller process tries to sell its units one at a time; exactly 100 are sold in all.
import { parseArgs } from 'node:util'
import { createContainer, ProposalRejectedError, SqliteStore } from 'omniscient-actors'
import { Stock } from './Stock.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { db: { type: 'string', default: './.data/inventory.db' }, sku: { type: 'string', default: 'sku-1' } },
})
const container = createContainer({ store: new SqliteStore({ file: values.db }) })
const stock = await container.actors.get(Stock, values.sku)
const [command, amount] = positionals
const n = Number(amount ?? 1)

if (command === 'restock') {
  await stock.Restock(n)
  console.log(`restocked ${n}: ${stock._state.left} left`)
} else if (command === 'sell') {
  let sold = 0
  let refused = 0
  // Leadership moves while processes come and go: say what this one was while it sold.
  const roles: string[] = []
  for (let i = 0; i < n; i++) {
    const role = stock.IsLeader ? 'leader' : 'follower'
    if (roles.at(-1) !== role) roles.push(role)
    try {
      await stock.Sell(1, `pid${process.pid}-${i}`)
      sold++
    } catch (err) {
      // Refused by the leader's check (handler threw) on a follower, or by the handler itself
      // when this process leads: either way nothing was stored.
      if (err instanceof ProposalRejectedError || (err as { code?: string }).code === 'HANDLER') refused++
      else throw err
    }
  }
  console.log(`pid ${process.pid} (${roles.join(', then ')}): sold ${sold}, refused ${refused}; ${stock._state.left} left in all`)
} else {
  console.log('usage: npm run inventory -- restock <n> | sell <n>')
}
await container.close()
