import { Command } from 'commander'
import { CliError } from '../errors.js'
import { formatChanges } from '../replay/diff.js'
import { loadActorClasses } from '../replay/loadActors.js'
import { replayActor, type Step } from '../replay/timeTravel.js'
import { eventLine } from '../format.js'
import { wholeNumber } from '../options.js'
import { startProgress } from '../progress.js'
import { withStore } from '../withStore.js'

interface StateFlags {
  at?: number
  step?: boolean
  json?: boolean
}

export function stateCommand(): Command {
  return new Command('state')
    .description("replay an actor from the store with your own class and print its state (at a version; --step: each event and the change it made)")
    .argument('<store>', 'store URL')
    .argument('<class>', 'your actor class: path/to/module.ts#ClassName (a .ts module when run through tsx, .js in plain node)')
    .argument('<id>', 'the actor id (its stream)')
    .option('--at <version>', 'stop at this version (default: the latest)', wholeNumber(0))
    .option('--step', 'print every event with the change it made to the state')
    .option('--json', 'the state as one line of JSON (with --step: one line per event)')
    .addHelpText('after', '\nNothing is written to the store: the class runs on a read-only view, snapshots are ignored.\nExample: omniscient state sqlite:./.data/app.db ./src/Cart.ts#Cart cart-42 --at 3 --step')
    .action(async (url: string, classSpec: string, id: string, flags: StateFlags) => {
      const classes = await loadActorClasses(classSpec)
      if (classes.size > 1) throw new CliError('ACTOR_CLASS_AMBIGUOUS', `"${classSpec}" exports several actor classes (${[...classes.keys()].join(', ')}): name one with #`)
      const [name, Class] = [...classes][0]!
      await withStore(url, { mustExist: true }, async (store) => {
        // A long replay shows its progress (on a terminal); --step prints its own.
        const total = flags.at ?? (await store.streamVersion(id))
        const progress = startProgress('replay', total, 'events', { quiet: flags.step === true || flags.json === true || total < 10_000 })
        const out = (text: string): void => void process.stdout.write(text + '\n')
        const result = await replayActor(Class, store, id, {
          ...(flags.at !== undefined ? { toVersion: flags.at } : {}),
          onProgress: (version) => {
            if (version % 1_000 === 0) progress.update(version)
          },
          ...(flags.step
            ? {
                onStep: (step: Step): void => {
                  if (flags.json) return out(JSON.stringify({ event: step.event, state: step.state, changes: step.changes }))
                  out(eventLine(step.event))
                  for (const line of formatChanges(step.changes)) out(`    ${line}`)
                  if (step.changes.length === 0) out('    (no change)')
                },
              }
            : {}),
        })
        progress.stop()
        if (result.error) {
          process.stderr.write(`${name} "${id}": the handler failed at version ${result.error.version}: ${result.error.message}\n`)
          process.exitCode = 1
        }
        if (flags.json && flags.step) return
        if (flags.json) return out(JSON.stringify({ version: result.version, head: result.head, state: result.state }))
        out(`${name} "${id}" at version ${result.version} of ${result.head}:`)
        out(JSON.stringify(result.state, null, 2))
      })
    })
}
