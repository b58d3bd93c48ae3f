import { Journal } from './Journal.js'

/** Journal led by shard: 16 shards over the processes that host it; the shard specs' subject. */
export class ShardedJournal extends Journal {
  static sharded = true
  static shards = 16
  static override leaseMs = 1_000
  static override renewEveryMs = 250
}
