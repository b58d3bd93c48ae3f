import { z } from 'zod'
import type { EventEnvelope, NewEvent } from '../node.js'
import { ImportLineError } from './errors.js'

/**
 * One stored event as a line of newline-delimited JSON, fields always in this order:
 * id, streamId, version, position, name, data, schemaVersion, at, meta. Data that is
 * `undefined` (an event without payload) has no `data` field.
 *
 * @example
 * process.stdout.write(envelopeLine(event) + '\n')
 */
export function envelopeLine(e: EventEnvelope): string {
  return JSON.stringify({
    id: e.id,
    streamId: e.streamId,
    version: e.version,
    position: e.position,
    name: e.name,
    data: e.data,
    schemaVersion: e.schemaVersion,
    at: e.at,
    meta: e.meta,
  })
}

/** An event read from an import file: what `append` takes, plus where it goes. */
export interface ImportedEvent {
  readonly streamId: string
  readonly version: number
  readonly event: NewEvent
}

const positiveInt = z.number().int().positive()
const lineSchema = z.strictObject({
  id: z.string().min(1),
  streamId: z.string().min(1),
  version: positiveInt,
  // Informational: the importing store assigns its own positions.
  position: positiveInt.optional(),
  name: z.string().min(1),
  data: z.unknown().optional(),
  schemaVersion: positiveInt,
  at: z.number().int().nonnegative(),
  meta: z.record(z.string(), z.unknown()).default({}),
})

/** Parses and checks one line of an export file; refuses it with its line number and field. */
export function parseEnvelopeLine(text: string, line: number): ImportedEvent {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ImportLineError('IMPORT_INVALID_LINE', line, undefined, undefined, `not JSON: ${(err as Error).message}`)
  }
  const parsed = lineSchema.safeParse(value)
  if (!parsed.success) {
    const o = (typeof value === 'object' && value !== null ? value : {}) as { streamId?: unknown; version?: unknown }
    const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'the line'}: ${i.message}`).join('; ')
    throw new ImportLineError(
      'IMPORT_INVALID_LINE',
      line,
      typeof o.streamId === 'string' ? o.streamId : undefined,
      typeof o.version === 'number' ? o.version : undefined,
      issues,
    )
  }
  const p = parsed.data
  return {
    streamId: p.streamId,
    version: p.version,
    event: { id: p.id, name: p.name, data: p.data, schemaVersion: p.schemaVersion, at: p.at, meta: p.meta },
  }
}
