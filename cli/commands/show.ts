import { Command } from 'commander'
import { eventLine } from '../format.js'
import { envelopeLine } from '../ndjson.js'
import { wholeNumber } from '../options.js'
import { withStore } from '../withStore.js'

interface ShowFlags {
  from?: number
  to?: number
  json?: boolean
}

export function showCommand(): Command {
  return new Command('show')
    .description("print a stream's events in version order")
    .argument('<store>', 'store URL')
    .argument('<stream>', 'stream id')
    .option('--from <version>', 'from this version on', wholeNumber(1))
    .option('--to <version>', 'up to this version', wholeNumber(1))
    .option('--json', 'one envelope per line, as export writes them')
    .action(async (url: string, streamId: string, flags: ShowFlags) => {
      await withStore(url, { mustExist: true }, async (store) => {
        let count = 0
        const range = { ...(flags.from !== undefined ? { fromVersion: flags.from } : {}), ...(flags.to !== undefined ? { toVersion: flags.to } : {}) }
        for await (const e of store.readStream(streamId, range)) {
          process.stdout.write((flags.json ? envelopeLine(e) : eventLine(e)) + '\n')
          count++
        }
        if (count === 0 && !flags.json) process.stderr.write(`stream "${streamId}" has no events${flags.from !== undefined || flags.to !== undefined ? ' in that range' : ''}\n`)
      })
    })
}
