#!/usr/bin/env node
// The `omniscient` command (package.json "bin"). Errors are printed without a stack: they
// name what went wrong (the line, the stream, the version); OMNISCIENT_DEBUG=1 shows the stack.
import { isOmniscientError } from '../node.js'
import { program } from './program.js'

// `omniscient export ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

try {
  await program().parseAsync(process.argv)
} catch (err) {
  const code = isOmniscientError(err) ? ` [${err.code}]` : ''
  process.stderr.write(`omniscient: ${err instanceof Error ? err.message : String(err)}${code}\n`)
  if (process.env['OMNISCIENT_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n')
  process.exitCode = 1
}
