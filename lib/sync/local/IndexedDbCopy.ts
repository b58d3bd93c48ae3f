/// <reference lib="dom" />
import type { EventEnvelope } from '../../envelope.js'
import { parseStoredJson } from '../../safeData.js'
import { parseSnapshotText } from '../../store/kit/snapshotText.js'
import type { Snapshot } from '../../store/StorageAdapter.js'
import { toEnvelope } from '../protocol.js'
import type { LocalCopy, QueuedAppend, ServerLimits } from './LocalCopy.js'

// IndexedDB answers with events; these turn a request or a transaction into a promise.
function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'))
  })
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
  })
}

/**
 * A RemoteStore's local copy in the browser's IndexedDB: what the page read survives a reload
 * (a Load fetches only the tail), and so do queued appends (sent again, once, after a reload or
 * a crash). One database per name; `durability: 'strict'` where the browser supports it, so a
 * queued append is on disk before it is sent.
 *
 * @example
 * const store = new RemoteStore({ url: '/sync', token, local: new IndexedDbCopy('game-device') })
 */
export class IndexedDbCopy implements LocalCopy {
  private readonly db: Promise<IDBDatabase>

  constructor(name = 'omniscient-sync', factory: IDBFactory = globalThis.indexedDB) {
    this.db = new Promise((resolve, reject) => {
      const request = factory.open(name, 2)
      request.onupgradeneeded = (event) => {
        const db = request.result
        if (event.oldVersion < 1) {
          db.createObjectStore('events', { keyPath: ['streamId', 'version'] })
          db.createObjectStore('snapshots')
          db.createObjectStore('checkpoints')
          db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true })
        }
        // Version 2: the server's limits (a page that had version 1 keeps what it held).
        if (event.oldVersion < 2) db.createObjectStore('server')
      }
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error ?? new Error(`IndexedDB "${name}" could not be opened`))
    })
  }

  private async tx(stores: string[], mode: IDBTransactionMode): Promise<IDBTransaction> {
    return (await this.db).transaction(stores, mode, { durability: 'strict' })
  }

  async knownVersion(streamId: string): Promise<number> {
    const tx = await this.tx(['events'], 'readonly')
    const range = IDBKeyRange.bound([streamId, 0], [streamId, Number.MAX_SAFE_INTEGER])
    const cursor = await done(tx.objectStore('events').openCursor(range, 'prev'))
    return cursor ? (cursor.value as EventEnvelope).version : 0
  }

  async *readStream(streamId: string, fromVersion: number, toVersion: number): AsyncIterable<EventEnvelope> {
    // Pages of 512, one transaction each: a transaction may not stay open across awaits of the caller.
    for (let from = fromVersion; from <= toVersion; ) {
      const tx = await this.tx(['events'], 'readonly')
      const page = (await done(tx.objectStore('events').getAll(IDBKeyRange.bound([streamId, from], [streamId, toVersion]), 512))) as unknown[]
      for (const value of page) yield toEnvelope(value)
      if (page.length < 512) return
      from += page.length
    }
  }

  async keep(streamId: string, events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return
    const tx = await this.tx(['events'], 'readwrite')
    const store = tx.objectStore('events')
    const range = IDBKeyRange.bound([streamId, 0], [streamId, Number.MAX_SAFE_INTEGER])
    const last = await done(store.openCursor(range, 'prev'))
    let known = last ? (last.value as EventEnvelope).version : 0
    for (const event of events) {
      if (event.version !== known + 1) continue
      store.put(event)
      known++
    }
    await committed(tx)
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    const tx = await this.tx(['snapshots'], 'readwrite')
    tx.objectStore('snapshots').put(JSON.stringify(snapshot), [snapshot.actorType, snapshot.streamId])
    await committed(tx)
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    const tx = await this.tx(['snapshots'], 'readonly')
    const text = (await done(tx.objectStore('snapshots').get([actorType, streamId]))) as string | undefined
    return text === undefined ? undefined : parseSnapshotText(text, actorType, streamId)
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    const tx = await this.tx(['checkpoints'], 'readwrite')
    tx.objectStore('checkpoints').put(position, name)
    await committed(tx)
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    const tx = await this.tx(['checkpoints'], 'readonly')
    return (await done(tx.objectStore('checkpoints').get(name))) as number | undefined
  }

  async enqueue(append: Omit<QueuedAppend, 'seq'>): Promise<QueuedAppend> {
    const tx = await this.tx(['queue'], 'readwrite')
    // Stored as JSON text, so what comes back is what JSON carries, as on the wire.
    const seq = (await done(tx.objectStore('queue').add({ body: JSON.stringify(append) }))) as number
    await committed(tx)
    return { ...append, seq }
  }

  async dequeue(seq: number): Promise<void> {
    const tx = await this.tx(['queue'], 'readwrite')
    tx.objectStore('queue').delete(seq)
    await committed(tx)
  }

  async queued(): Promise<QueuedAppend[]> {
    const tx = await this.tx(['queue'], 'readonly')
    const rows = (await done(tx.objectStore('queue').getAll())) as Array<{ seq: number; body: string }>
    return rows.map((row) => ({ ...(parseStoredJson(row.body) as Omit<QueuedAppend, 'seq'>), seq: row.seq }))
  }

  async saveLimits(limits: ServerLimits): Promise<void> {
    const tx = await this.tx(['server'], 'readwrite')
    tx.objectStore('server').put(JSON.stringify(limits), 'limits')
    await committed(tx)
  }

  async loadLimits(): Promise<ServerLimits | undefined> {
    const tx = await this.tx(['server'], 'readonly')
    const text = (await done(tx.objectStore('server').get('limits'))) as string | undefined
    return text === undefined ? undefined : (parseStoredJson(text) as ServerLimits)
  }

  async close(): Promise<void> {
    ;(await this.db).close()
  }
}
