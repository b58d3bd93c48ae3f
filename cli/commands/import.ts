import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Command } from 'commander'
import { importLog } from '../importLog.js'
import { wholeNumber } from '../options.js'
import { startProgress } from '../progress.js'
import { withStore } from '../withStore.js'

interface ImportFlags {
  batchSize?: number
  inFlight?: number
  dryRun?: boolean
  quiet?: boolean
}

export function importCommand(): Command {
  return new Command('import')
    .description('append events from newline-delimited JSON (as export writes it), keeping streams, versions and ids; importing twice stores nothing new')
    .argument('<store>', 'store URL (sqlite:./app.db, postgres://..., rethinkdb://...)')
    .argument('[file]', 'the file to read; stdin when absent or "-"')
    .option('--batch-size <n>', 'most events of one stream appended together (all or nothing)', wholeNumber(1), 500)
    .option('--in-flight <n>', 'most batches of distinct streams appended at once (1: the file order across streams on every engine, slower)', wholeNumber(1), 1_000)
    .option('--dry-run', 'check every line and the versions within the file; store nothing')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      '\nConsecutive lines of one stream are appended as one batch: all of it or none. An event already stored\n(same id, stream, version and content) is skipped. A line that is not an envelope, a version gap, or a\nversion or id the store holds with another event stops the import with the line number; batches\nstored before it stay stored, so the same file can be imported again once fixed.',
    )
    .action(async (url: string, file: string | undefined, flags: ImportFlags) => {
      const fromStdin = file === undefined || file === '-'
      const size = fromStdin ? undefined : statSync(file).size
      // A dry run touches no store (a SQLite file would be created by opening it).
      const target = flags.dryRun ? 'memory:' : url
      await withStore(target, { mustExist: false }, async (store) => {
        // Read only once the store is open: readline drops the lines it emits before it is iterated.
        // Large reads: more lines per turn of the event loop, so more batches share each commit.
        const input = fromStdin ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 })
        const lines = createInterface({ input, crlfDelay: Infinity })
        const progress = startProgress(flags.dryRun ? 'check' : 'import', size, 'bytes', { quiet: flags.quiet === true })
        const report = await importLog(store, lines, {
          ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
          ...(flags.inFlight !== undefined ? { inFlight: flags.inFlight } : {}),
          dryRun: flags.dryRun === true,
          // Bytes read so far: the file stream's count (lines are ahead of the store by at most a few batches).
          onProgress: () => progress.update((input as { bytesRead?: number }).bytesRead ?? 0),
        })
        progress.stop()
        const what = flags.dryRun
          ? `checked ${report.events} events of ${report.streams} streams: the file is valid`
          : `imported ${report.events} events of ${report.streams} streams: ${report.stored} stored, ${report.alreadyStored} already stored`
        process.stdout.write(what + '\n')
      })
    })
}
