import { ConcurrencyError, IdempotencyError, type EventEnvelope, type NewEvent, type StorageAdapter } from '../node.js'
import { ImportLineError } from './errors.js'
import { parseEnvelopeLine, type ImportedEvent } from './ndjson.js'

/** Options of `importLog`. */
export interface ImportOptions {
  /** Most events appended in one batch (default 500). */
  readonly batchSize?: number
  /**
   * Most batches (of distinct streams, consecutive in the file) appended at once, so the store
   * can commit them together (default 1,000; a wave holds at most 10,000 events). 1 appends one batch at a time: slower, and the file's
   * order across streams is kept on every engine (PostgreSQL may otherwise commit two halves of
   * a wave in either order).
   */
  readonly inFlight?: number
  /** Check every line and the versions within the file, store nothing. */
  readonly dryRun?: boolean
  /** Called now and then with the number of lines read. */
  readonly onProgress?: (lines: number) => void
}

/** What an import did. */
export interface ImportReport {
  /** Event lines read (blank lines aside). */
  readonly events: number
  /** Events written by this import. */
  readonly stored: number
  /** Events the store already held (same id, same stream and version): skipped. */
  readonly alreadyStored: number
  /** Distinct streams met. */
  readonly streams: number
}

/** Most events in one wave: bounds the memory an import holds, whatever the batch size. */
const WAVE_EVENTS = 10_000

interface Batch {
  readonly streamId: string
  readonly events: ImportedEvent[]
  /** The line number of each event. */
  readonly lines: number[]
}

/**
 * Imports newline-delimited JSON envelopes (as `exportLog` writes them) into a store, keeping
 * each event's stream, version and id. Consecutive lines of one stream are appended as one
 * batch: all of it or none. Idempotent by event id: an event already stored (same id at the
 * same stream and version, same content) is skipped, so importing a file twice stores
 * nothing the second time. Refuses, naming the line:
 * - a line that is not a valid envelope (IMPORT_INVALID_LINE),
 * - a version that leaves a gap, in the file or after the store's stream (IMPORT_GAP),
 * - a version the store holds with another event, or an id it holds elsewhere (IMPORT_CONFLICT).
 * On a refusal no further batch starts; batches already stored (before it, or beside it in
 * its wave) stay stored: run it again once the file is fixed, they are skipped. Across
 * streams, events are appended in the file's order (see `inFlight`).
 *
 * @example
 * const report = await importLog(store, readLines(createReadStream('log.ndjson')))
 */
export async function importLog(store: StorageAdapter, lines: AsyncIterable<string>, options: ImportOptions = {}): Promise<ImportReport> {
  const batchSize = options.batchSize ?? 500
  const maxInFlight = options.inFlight ?? 1_000
  const fileVersions = new Map<string, number>()
  // The first error met, by reading or by a batch; `undefined` while all goes well.
  let failure: Error | undefined
  let stored = 0
  let alreadyStored = 0
  let events = 0
  let lineNo = 0
  let batch: Batch | undefined
  // Batches of distinct streams, consecutive in the file, appended together so that the store
  // commits them in one group. A wave ends before a stream would come twice: waves are stored
  // one after the other, so events keep the file's order across streams.
  let wave: Batch[] = []
  let waveEvents = 0
  const waveStreams = new Set<string>()

  const storeWave = async () => {
    const outcomes = await Promise.allSettled(wave.map((b) => storeBatch(store, b)))
    wave = []
    waveEvents = 0
    waveStreams.clear()
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        stored += outcome.value.stored
        alreadyStored += outcome.value.alreadyStored
      } else failure ??= asError(outcome.reason)
    }
  }

  const submit = async (b: Batch) => {
    if (options.dryRun) return
    if (wave.length >= maxInFlight || waveEvents + b.events.length > WAVE_EVENTS || waveStreams.has(b.streamId)) await storeWave()
    if (failure !== undefined) return
    wave.push(b)
    waveEvents += b.events.length
    waveStreams.add(b.streamId)
  }

  try {
    for await (const text of lines) {
      lineNo++
      if (failure !== undefined) break
      if (text.trim() === '') continue
      const imported = parseEnvelopeLine(text, lineNo)
      events++
      const seen = fileVersions.get(imported.streamId)
      if (seen !== undefined && imported.version !== seen + 1) {
        const what = imported.version <= seen ? `comes after version ${seen} of the same stream earlier in the file` : `follows version ${seen}: versions ${seen + 1}..${imported.version - 1} are missing`
        throw new ImportLineError(imported.version <= seen ? 'IMPORT_CONFLICT' : 'IMPORT_GAP', lineNo, imported.streamId, imported.version, what)
      }
      fileVersions.set(imported.streamId, imported.version)
      if (batch && (batch.streamId !== imported.streamId || batch.events.length >= batchSize)) {
        await submit(batch)
        batch = undefined
      }
      batch ??= { streamId: imported.streamId, events: [], lines: [] }
      batch.events.push(imported)
      batch.lines.push(lineNo)
      if (lineNo % 10_000 === 0) options.onProgress?.(lineNo)
    }
    if (batch && failure === undefined) await submit(batch)
    if (failure === undefined && wave.length > 0) await storeWave()
  } catch (err) {
    failure ??= asError(err)
  }
  options.onProgress?.(lineNo)
  if (failure !== undefined) throw failure
  return { events, stored, alreadyStored, streams: fileVersions.size }
}

async function storeBatch(store: StorageAdapter, b: Batch): Promise<{ stored: number; alreadyStored: number }> {
  const first = b.events[0]!.version
  try {
    const result = await store.append(b.streamId, b.events.map((e) => e.event), { expectedVersion: first - 1 })
    if (!result.alreadyStored) return { stored: b.events.length, alreadyStored: 0 }
    result.events.forEach((stored, i) => assertSame(stored, b, i))
    return { stored: 0, alreadyStored: b.events.length }
  } catch (err) {
    if (!(err instanceof ConcurrencyError) && !(err instanceof IdempotencyError)) throw err
  }
  return reconcile(store, b)
}

/**
 * The store's stream is not where the batch starts, or some of its ids are stored: find out
 * which. Events the store holds already must be the same events; the rest go on top.
 */
async function reconcile(store: StorageAdapter, b: Batch): Promise<{ stored: number; alreadyStored: number }> {
  const first = b.events[0]!.version
  const current = await store.streamVersion(b.streamId)
  if (current < first - 1) {
    throw new ImportLineError('IMPORT_GAP', b.lines[0]!, b.streamId, first, `the store's stream is at version ${current}, so versions ${current + 1}..${first - 1} are missing`)
  }
  const overlap = Math.min(b.events.length, current - first + 1)
  let i = 0
  for await (const stored of store.readStream(b.streamId, { fromVersion: first, toVersion: first + overlap - 1 })) assertSame(stored, b, i++)
  const rest = b.events.slice(overlap)
  if (rest.length === 0) return { stored: 0, alreadyStored: overlap }
  try {
    await store.append(b.streamId, rest.map((e) => e.event), { expectedVersion: current })
  } catch (err) {
    const k = err instanceof IdempotencyError ? b.events.findIndex((e) => e.event.id === err.eventId) : -1
    const at = k >= 0 ? k : overlap
    if (err instanceof IdempotencyError) {
      throw new ImportLineError('IMPORT_CONFLICT', b.lines[at]!, b.streamId, b.events[at]!.version, err.message, { cause: err })
    }
    if (err instanceof ConcurrencyError) {
      throw new ImportLineError('IMPORT_CONFLICT', b.lines[at]!, b.streamId, b.events[at]!.version, `another writer appended to the stream during the import (${err.message})`, { cause: err })
    }
    throw err
  }
  return { stored: rest.length, alreadyStored: overlap }
}

/** An event the store holds must be the line's event: same id, version and content. */
function assertSame(stored: EventEnvelope, b: Batch, i: number): void {
  const line = b.events[i]!
  const fail = (detail: string) => {
    throw new ImportLineError('IMPORT_CONFLICT', b.lines[i]!, b.streamId, line.version, detail)
  }
  if (stored.streamId !== b.streamId || stored.version !== line.version) {
    fail(`event id "${line.event.id}" is stored as version ${stored.version} of "${stored.streamId}"`)
  }
  if (stored.id !== line.event.id) fail(`the store holds event "${stored.id}" at this version, the file "${line.event.id}"`)
  if (contentOf(stored) !== contentOf(line.event)) fail(`event "${stored.id}" is stored with other content (name, data, schemaVersion, at or meta differ)`)
}

function contentOf(e: NewEvent): string {
  return JSON.stringify([e.name, e.data, e.schemaVersion, e.at, e.meta])
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
