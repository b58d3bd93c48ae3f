import { Command } from 'commander'
import { table } from '../format.js'
import { readerPositions } from '../positions.js'
import { withStore } from '../withStore.js'

export function positionsCommand(): Command {
  return new Command('positions')
    .description("list the log's readers (checkpoints of projections, read models, process managers) with their position and lag")
    .argument('<store>', 'store URL')
    .option('--json', 'one JSON object per line')
    .action(async (url: string, flags: { json?: boolean }) => {
      await withStore(url, { mustExist: true }, async (store) => {
        const { head, positions, checkpointsListed } = await readerPositions(store)
        if (flags.json) {
          for (const p of positions) process.stdout.write(JSON.stringify(p) + '\n')
          return
        }
        process.stdout.write(`head position ${head}${checkpointsListed ? '' : ' (this store cannot list its checkpoints)'}\n`)
        if (positions.length === 0) return void process.stdout.write('no reader has saved a position\n')
        process.stdout.write(table(['NAME', 'KIND', 'POSITION', 'LAG'], positions.map((p) => [p.name, p.kind, String(p.position), String(p.lag)])) + '\n')
      })
    })
}
