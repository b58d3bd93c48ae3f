import { Command } from 'commander'
import { exportCommand } from './commands/export.js'
import { importCommand } from './commands/import.js'
import { inspectCommand } from './commands/inspect.js'
import { leasesCommand } from './commands/leases.js'
import { positionsCommand } from './commands/positions.js'
import { showCommand } from './commands/show.js'
import { stateCommand } from './commands/state.js'
import { streamsCommand } from './commands/streams.js'
import { tailCommand } from './commands/tail.js'

/**
 * The `omniscient` command and its subcommands.
 *
 * @example
 * await program().parseAsync(['node', 'omniscient', 'streams', 'sqlite:./.data/app.db'])
 */
export function program(): Command {
  return new Command('omniscient')
    .description('look at an omniscient-actors store: export, import, streams, events, actor state at any version, live tail, leases, and an inspector page')
    .addHelpText('after', '\nStores by URL: sqlite:./.data/app.db, postgres://user:pw@host/db?schema=omniscient, rethinkdb://host:28015/db?prefix=omniscient_')
    .showHelpAfterError()
    .addCommand(exportCommand())
    .addCommand(importCommand())
    .addCommand(streamsCommand())
    .addCommand(showCommand())
    .addCommand(tailCommand())
    .addCommand(leasesCommand())
    .addCommand(positionsCommand())
    .addCommand(stateCommand())
    .addCommand(inspectCommand())
}
