// Opens a new SQLite file at the same moment as other processes, round after round: for each
// round it waits for `<dir>/go-<round>`, opens `<dir>/db-<round>.db`, appends one event and
// closes, printing `opened <round>` or `failed <round> <message>`.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { SqliteStore } from 'omniscient-actors'

const [dir, label, roundsText] = process.argv.slice(2) as [string, string, string]
console.log('ready')
for (let round = 0; round < Number(roundsText); round++) {
  // Spin rather than sleep: the processes should open the file within microseconds of each other.
  while (!existsSync(join(dir, `go-${round}`))) await new Promise((r) => setImmediate(r))
  try {
    const store = new SqliteStore({ file: join(dir, `db-${round}.db`) })
    await store.append('s', [{ id: `${label}-${round}`, name: 'opened', data: {}, schemaVersion: 1, at: Date.now(), meta: {} }], { expectedVersion: 'any' })
    await store.close()
    console.log(`opened ${round}`)
  } catch (err) {
    console.log(`failed ${round} ${(err as Error).message}`)
  }
}
