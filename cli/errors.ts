import { OmniscientError } from '../node.js'

/**
 * A command could not do what it was asked (a bad store URL, an unknown actor class...). The
 * CLI prints the message and exits with status 1; `code` says which case it is.
 *
 * @example
 * throw new CliError('UNKNOWN_STORE_SCHEME', 'no store for "ftp://x"')
 */
export class CliError extends OmniscientError {}

/**
 * A line of an import file was refused: unreadable, a gap in its stream's versions, or a
 * version or id that conflicts with what the store holds. `line` is 1-based.
 *
 * @example
 * catch (err) { if (err instanceof ImportLineError) console.error(`line ${err.line}: ${err.message}`) }
 */
export class ImportLineError extends OmniscientError {
  constructor(
    code: 'IMPORT_INVALID_LINE' | 'IMPORT_GAP' | 'IMPORT_CONFLICT',
    readonly line: number,
    readonly streamId: string | undefined,
    readonly version: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(code, `line ${line}${streamId === undefined ? '' : ` (stream "${streamId}"${version === undefined ? '' : ` version ${version}`})`}: ${detail}`, options)
  }
}
