// The options' types of the RethinkDB adapter, kept apart from rethinkdb-ts: the package's public
// declarations import this file, and rethinkdb-ts's own typings fail a consumer's library check
// (skipLibCheck: false).

/** Where and how to reach the server. */
export interface RethinkServer {
  readonly host: string
  readonly port: number
  readonly db: string
  readonly user?: string
  readonly password?: string
}

/** Timing of the connection. */
export interface ConnectionTiming {
  /** How long one connection attempt may take. Default 5 s. */
  readonly connectTimeoutMs?: number
  /** How long a query waits for a connection before failing with STORAGE_UNAVAILABLE. Default 10 s. */
  readonly waitTimeoutMs?: number
  /**
   * How long a query may wait for its answer once sent (an append, a page of a read, a lease
   * change, a checkpoint, a read model's batch). Default 5000 ms. Past it the query fails with
   * STORAGE_UNAVAILABLE, or STORAGE_INDETERMINATE for a write, which may have been applied, and
   * its connection is closed. Setting up tables and indexes is not bounded by it.
   */
  readonly callTimeoutMs?: number
  /** Told about each failed attempt to (re)connect. */
  readonly onError?: (err: unknown) => void
}

/** How the tables are laid out on a cluster when they are created. */
export interface TableLayout {
  /**
   * Replicas of each table: a number (default 1), or a number per server tag, such as
   * `{ dc1: 2, dc2: 1 }` (then `primaryReplicaTag` says where the primaries live).
   */
  readonly replicas?: number | Readonly<Record<string, number>>
  /** With replicas per tag: the tag of the servers that hold the primary replicas. */
  readonly primaryReplicaTag?: string
  /** Shards of each table, 1 to 64 (default 1). */
  readonly shards?: number
}

/** Whose clock decides expiry: the server's (`r.now()`, the default) or the caller's `now`. */
export type LeaseClock = 'server' | 'caller'
