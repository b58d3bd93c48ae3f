import { Command } from 'commander'
import { listLeases } from '../storeCatalog.js'
import { formatTime, leaseStanding, table } from '../format.js'
import { withStore } from '../withStore.js'

export function leasesCommand(): Command {
  return new Command('leases')
    .description('list leases: who leads what (OneActor, TickActor, runners), with terms and expiry')
    .argument('<store>', 'store URL')
    .option('--json', 'one JSON object per line')
    .action(async (url: string, flags: { json?: boolean }) => {
      await withStore(url, { mustExist: true }, async (store) => {
        const leases = await listLeases(store)
        if (!leases) {
          process.stderr.write('this store cannot list its leases\n')
          process.exitCode = 1
          return
        }
        if (flags.json) {
          for (const l of leases) process.stdout.write(JSON.stringify(l) + '\n')
          return
        }
        const now = Date.now()
        process.stdout.write(table(['LEASE', 'HOLDER', 'TERM', 'EXPIRES (UTC)', 'NOW'], leases.map((l) => [l.name, l.holder, String(l.term), formatTime(l.expiresAt), leaseStanding(l, now)])) + '\n')
      })
    })
}
