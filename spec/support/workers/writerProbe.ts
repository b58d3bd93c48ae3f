// A LiveActor writer for the partition specs: fires events on one Tally, each with an id of its
// own; a Fire that fails because the store did not answer (STORAGE_UNAVAILABLE or
// STORAGE_INDETERMINATE) is sent again with the same id until it resolves, which is how a
// caller settles an indeterminate append. One line per attempt (spec/support/faults/History.ts):
//   fire <id> <startMs> <endMs> 0 ok <version> | ... err <code>
//   call <method> <startMs> <endMs> ok|<code>
import { createContainer, isOmniscientError } from 'omniscient-actors'
import { recordedStore } from '../faults/recordedStore.js'
import { Tally } from '../Tally.js'

const [url, namespace, label] = process.argv.slice(2) as [string, string, string]
const store = recordedStore(url, namespace)
const tally = await new Tally('tally', createContainer({ store, report: () => {} })).Load()
console.log('ready')
for (let n = 0; ; n++) {
  const id = `${label}-${n}`
  for (;;) {
    const start = Date.now()
    try {
      const stored = await tally.Fire('counted', { by: label, n }, { id })
      console.log(`fire ${id} ${start} ${Date.now()} 0 ok ${stored.version}`)
      break
    } catch (err) {
      const code = isOmniscientError(err) ? err.code : (err as Error).name
      console.log(`fire ${id} ${start} ${Date.now()} 0 err ${code}`)
      if (code !== 'STORAGE_UNAVAILABLE' && code !== 'STORAGE_INDETERMINATE') break
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  await new Promise((r) => setTimeout(r, 20))
}
