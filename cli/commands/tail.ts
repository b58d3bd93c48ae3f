import { Command } from 'commander'
import type { EventEnvelope, StorageAdapter } from '../../node.js'
import { eventLine } from '../format.js'
import { envelopeLine } from '../ndjson.js'
import { list, wholeNumber } from '../options.js'
import { openStore } from '../storeUrl.js'

interface TailFlags {
  follow?: boolean
  names?: string[]
  lines: number
  json?: boolean
}

export function tailCommand(): Command {
  return new Command('tail')
    .description('print the last events (of one stream, or of the whole log), and with -f follow new ones live')
    .argument('<store>', 'store URL')
    .argument('[stream]', 'only this stream')
    .option('-f, --follow', 'keep printing events as they are committed (Ctrl-C stops)')
    .option('--names <names>', 'only events with these names (comma-separated)', list)
    .option('-n, --lines <n>', 'how many past events to print first (of the whole log: the last n positions)', wholeNumber(0), 10)
    .option('--json', 'one envelope per line, as export writes them')
    .action(async (url: string, streamId: string | undefined, flags: TailFlags) => {
      const store = await openStore(url, { mustExist: true })
      const print = (e: EventEnvelope) => {
        if (flags.names && !flags.names.includes(e.name)) return
        process.stdout.write((flags.json ? envelopeLine(e) : eventLine(e)) + '\n')
      }
      try {
        const head = await store.headPosition()
        let from = head + 1
        if (flags.lines > 0) from = await printRecent(store, streamId, flags.lines, head, print)
        if (!flags.follow) return
        const subscription = store.subscribe(
          { fromPosition: from, ...(streamId !== undefined ? { streamId } : {}), ...(flags.names ? { names: flags.names } : {}) },
          print,
        )
        process.stderr.write(`following ${streamId !== undefined ? `"${streamId}"` : 'the log'} from position ${from} (Ctrl-C stops)\n`)
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve)
          process.once('SIGTERM', resolve)
          subscription.done.then(resolve, resolve)
        })
        await subscription.close()
      } finally {
        await store.close()
      }
    })
}

/** Prints the recent past; returns the position live following starts from. */
async function printRecent(store: StorageAdapter, streamId: string | undefined, n: number, head: number, print: (e: EventEnvelope) => void): Promise<number> {
  if (streamId === undefined) {
    for await (const e of store.readAll({ fromPosition: Math.max(1, head - n + 1) })) if (e.position <= head) print(e)
    return head + 1
  }
  const version = await store.streamVersion(streamId)
  let last = 0
  for await (const e of store.readStream(streamId, { fromVersion: Math.max(1, version - n + 1), toVersion: version })) {
    print(e)
    last = e.position
  }
  // The stream's events after the ones printed; an event committed meanwhile is not lost.
  return last > 0 ? last + 1 : head + 1
}
