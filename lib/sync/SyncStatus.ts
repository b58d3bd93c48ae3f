/** How a RemoteStore stands with its server. */
export interface SyncStatus {
  /** The last request or live feed reached the server. */
  readonly connected: boolean
  /** Appends sent or waiting to be sent, not yet answered by the server. */
  readonly queued: number
  /** The highest log position this device has seen. */
  readonly lastPosition: number
}

/** Holds the status and tells listeners about each change (one listener failing stops no other). */
export class SyncStatusBoard {
  private status: SyncStatus = { connected: false, queued: 0, lastPosition: 0 }
  private readonly listeners = new Set<(status: SyncStatus) => void>()

  get current(): SyncStatus {
    return this.status
  }

  update(change: Partial<SyncStatus>): void {
    const next = { ...this.status, ...change }
    if (next.connected === this.status.connected && next.queued === this.status.queued && next.lastPosition === this.status.lastPosition) return
    this.status = next
    for (const listener of this.listeners) {
      try {
        listener(next)
      } catch {
        // A status display that throws must not break delivery.
      }
    }
  }

  listen(listener: (status: SyncStatus) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
