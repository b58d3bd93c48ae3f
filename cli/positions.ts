import type { StorageAdapter } from '../node.js'
import { listCheckpoints } from './storeCatalog.js'

/** How far one reader of the log (read model, projection, process manager) has got. */
export interface ReaderPosition {
  readonly name: string
  /** What it is: 'checkpoint', or what a registered source calls it ('read model', 'projection'...). */
  readonly kind: string
  readonly position: number
  /** The store's head position minus `position`: events it has still to handle (at most; positions may have gaps). */
  readonly lag: number
  /** Anything else the source knows (version, rebuilding...). */
  readonly detail?: string
}

/** Lists readers' positions, given the store and its head. */
export type PositionSource = (store: StorageAdapter, head: number) => Promise<readonly ReaderPosition[]>

const sources: PositionSource[] = []

/**
 * Adds a source of positions to `readerPositions` (the inspector's Positions view, the CLI's
 * `positions`). The read side registers its read models and projections here; checkpoints
 * stored through the contract are listed without it.
 *
 * @example
 * registerPositionSource(async (store, head) => [{ name: 'orders', kind: 'read model', position: 9, lag: head - 9 }])
 */
export function registerPositionSource(source: PositionSource): void {
  sources.push(source)
}

/** The store's checkpoints, then every registered source's positions. */
export async function readerPositions(store: StorageAdapter): Promise<{ head: number; positions: ReaderPosition[]; checkpointsListed: boolean }> {
  const head = await store.headPosition()
  const checkpoints = await listCheckpoints(store)
  const positions: ReaderPosition[] = (checkpoints ?? []).map((c) => ({ name: c.name, kind: 'checkpoint', position: c.position, lag: Math.max(0, head - c.position) }))
  for (const source of sources) positions.push(...(await source(store, head)))
  return { head, positions, checkpointsListed: checkpoints !== undefined }
}
