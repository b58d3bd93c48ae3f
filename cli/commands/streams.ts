import { Command } from 'commander'
import { listStreams } from '../storeCatalog.js'
import { formatTime, table } from '../format.js'
import { wholeNumber } from '../options.js'
import { withStore } from '../withStore.js'

interface StreamsFlags {
  contains?: string
  after?: string
  limit: number
  json?: boolean
}

export function streamsCommand(): Command {
  return new Command('streams')
    .description('list streams in id order, with their version and last event time')
    .argument('<store>', 'store URL')
    .option('-c, --contains <text>', 'only ids containing this text')
    .option('--after <id>', 'only ids after this one (the next page)')
    .option('-n, --limit <n>', 'at most this many', wholeNumber(1), 100)
    .option('--json', 'one JSON object per line')
    .action(async (url: string, flags: StreamsFlags) => {
      await withStore(url, { mustExist: true }, async (store) => {
        const streams = await listStreams(store, {
          limit: flags.limit,
          ...(flags.contains !== undefined ? { contains: flags.contains } : {}),
          ...(flags.after !== undefined ? { after: flags.after } : {}),
        })
        if (flags.json) {
          for (const s of streams) process.stdout.write(JSON.stringify(s) + '\n')
          return
        }
        process.stdout.write(table(['STREAM', 'VERSION', 'LAST EVENT (UTC)', 'LAST POSITION'], streams.map((s) => [s.streamId, String(s.version), formatTime(s.lastAt), String(s.lastPosition)])) + '\n')
        if (streams.length === flags.limit) process.stdout.write(`(more after "${streams.at(-1)!.streamId}": --after ${JSON.stringify(streams.at(-1)!.streamId)})\n`)
      })
    })
}
