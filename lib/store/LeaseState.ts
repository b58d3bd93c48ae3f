/**
 * A lease as stored. `term` grows by one on every acquisition that is not a renewal, so a
 * writer holding an older term knows it has been deposed.
 */
export interface LeaseState {
  readonly name: string
  readonly holder: string
  readonly term: number
  /** ms since the epoch; at or after it the lease is free to take. */
  readonly expiresAt: number
}
