import type { EventEnvelope, NewEvent } from '../../envelope.js'
import type { ExpectedVersion, Snapshot } from '../../store/StorageAdapter.js'

/** An append waiting for the server's answer, kept so that it survives a lost connection or a restart. */
export interface QueuedAppend {
  /** Order of the queue: appends are sent in this order. */
  readonly seq: number
  readonly streamId: string
  readonly events: readonly NewEvent[]
  readonly expectedVersion: ExpectedVersion
  readonly lease?: { readonly name: string; readonly term: number }
}

/** What the sync server said of its store's limits (`GET /head`), kept so that a start offline knows them. */
export interface ServerLimits {
  /** The longest id the server's store takes, when shorter than the default. */
  readonly maxIdBytes?: number
}

/**
 * What a RemoteStore keeps on the device: the events it has read (each stream's known prefix,
 * so a Load after a restart fetches only the tail), its snapshots and checkpoints, and the
 * queue of appends not yet acknowledged. `MemoryCopy` forgets on exit; `SqliteCopy` (Node) and
 * `IndexedDbCopy` (browsers) keep it.
 */
export interface LocalCopy {
  /** The highest version of `streamId` held without a gap from version 1 (0: none). */
  knownVersion(streamId: string): Promise<number>
  /** The held events of a stream in version order, within inclusive bounds. */
  readStream(streamId: string, fromVersion: number, toVersion: number): AsyncIterable<EventEnvelope>
  /** Keeps events that continue a stream's known prefix; others are ignored. */
  keep(streamId: string, events: readonly EventEnvelope[]): Promise<void>

  saveSnapshot(snapshot: Snapshot): Promise<void>
  /** Throws SnapshotCorruptError when the held snapshot cannot be read. */
  loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined>
  saveCheckpoint(name: string, position: number): Promise<void>
  loadCheckpoint(name: string): Promise<number | undefined>

  /** Adds an append to the queue, durably where the copy is persistent; resolves with its place. */
  enqueue(append: Omit<QueuedAppend, 'seq'>): Promise<QueuedAppend>
  /** Removes an append the server answered (stored or refused). */
  dequeue(seq: number): Promise<void>
  /** The queue, oldest first. */
  queued(): Promise<QueuedAppend[]>

  /** Optional: keeps the server's limits; a copy without it learns them again from the server at each start. */
  saveLimits?(limits: ServerLimits): Promise<void>
  loadLimits?(): Promise<ServerLimits | undefined>

  close(): Promise<void>
}
