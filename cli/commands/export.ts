import { createWriteStream } from 'node:fs'
import { finished } from 'node:stream/promises'
import { Command } from 'commander'
import { exportLog, streamSink } from '../exportLog.js'
import { wholeNumber } from '../options.js'
import { startProgress } from '../progress.js'
import { withStore } from '../withStore.js'

interface ExportFlags {
  stream?: string
  fromPosition?: number
  fromVersion?: number
  output?: string
  quiet?: boolean
}

export function exportCommand(): Command {
  return new Command('export')
    .description('write events as newline-delimited JSON, one envelope per line (the whole log in position order, or one stream)')
    .argument('<store>', 'store URL (sqlite:./app.db, postgres://..., rethinkdb://...)')
    .option('-s, --stream <id>', 'only this stream, in version order')
    .option('--from-position <n>', 'only events at or after this position (whole log)', wholeNumber(1))
    .option('--from-version <n>', 'with --stream: only versions from this one on', wholeNumber(1))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText('after', '\nLine fields, in this order: id, streamId, version, position, name, data, schemaVersion, at, meta.\nExample: omniscient export sqlite:./.data/app.db | jq -c \'select(.name != "debug")\' > log.ndjson')
    .action(async (url: string, flags: ExportFlags) => {
      await withStore(url, { mustExist: true }, async (store) => {
        const total =
          flags.stream !== undefined
            ? (await store.streamVersion(flags.stream)) - (flags.fromVersion ?? 1) + 1
            : (await store.headPosition()) - (flags.fromPosition ?? 1) + 1
        const out = flags.output !== undefined ? createWriteStream(flags.output) : process.stdout
        const progress = startProgress('export', Math.max(0, total), 'events', { quiet: flags.quiet === true })
        const count = await exportLog(
          store,
          {
            ...(flags.stream !== undefined ? { streamId: flags.stream } : {}),
            ...(flags.fromPosition !== undefined ? { fromPosition: flags.fromPosition } : {}),
            ...(flags.fromVersion !== undefined ? { fromVersion: flags.fromVersion } : {}),
          },
          streamSink(out),
          (done) => progress.update(done),
        )
        progress.stop()
        if (out !== process.stdout) {
          out.end()
          await finished(out)
        }
        if (!flags.quiet) process.stderr.write(`exported ${count} events\n`)
      })
    })
}
