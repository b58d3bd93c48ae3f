import type { RDatum, WriteResult } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import { LeaseLostError, StorageError } from '../../errors.js'
import type { LeaseState } from '../StorageAdapter.js'
import { mergeTombstones, type CommitDoc, type CommitKey, type LeaseDoc, type TombstoneDoc } from './documents.js'
import { writeOutcome } from './failures.js'
import type { RethinkConnection } from './RethinkConnection.js'
import type { LeaseClock } from './options.js'
import type { Tables } from './schema.js'

const MAX_TAKEOVER_ATTEMPTS = 50

function stateOf(doc: LeaseDoc | null | undefined): LeaseState | undefined {
  return doc && doc.term > 0 ? { name: doc.id, holder: doc.holder, term: doc.term, expiresAt: doc.expiresAt } : undefined
}

function changed(result: WriteResult<unknown>): { before: LeaseDoc | null; after: LeaseDoc | null } {
  const change = result.changes?.[0]
  if (!change) throw new StorageError(`RethinkDB lease change returned no change (${JSON.stringify(result)})`)
  return { before: (change.old_val as LeaseDoc | null) ?? null, after: (change.new_val as LeaseDoc | null) ?? null }
}

/**
 * Leases, each one document changed by one atomic `replace` whose `r.branch` checks holder,
 * term and expiry on the server. Fencing needs more, because a commit is another document and
 * RethinkDB has no multi-document transaction:
 *
 * - Before inserting a commit under a lease, the holder *announces* the commit's key in the
 *   lease document, atomically with the check that its term is still current.
 * - Before a new holder takes an expired lease, it inserts a *tombstone* at every announced
 *   key, then takes the lease only if the announcements are still the ones it saw.
 *
 * So a deposed holder's insert either landed before the takeover (the tombstone then fails on
 * the real commit: the write happened in the old term, which is fine), or it meets the
 * tombstone and is refused with LeaseLostError. Any other writer replaces a tombstone.
 */
export class RethinkLeases {
  constructor(
    private readonly db: RethinkConnection,
    private readonly t: Tables,
    private readonly clock: LeaseClock,
  ) {}

  /** "Now" in ms as the server computes it inside a query. */
  private now(callerNow: number): RDatum<number> {
    return this.clock === 'server' ? r.now().toEpochTime().mul(1000).floor() : r.expr(callerNow)
  }

  async acquire(name: string, owner: string, ttlMs: number, callerNow: number): Promise<LeaseState> {
    for (let attempt = 0; attempt < MAX_TAKEOVER_ATTEMPTS; attempt++) {
      const seen = await this.db.read<{ lease: LeaseDoc | null; now: number }>(r.expr({ lease: this.t.leases.get(name), now: this.now(callerNow) }), `read lease "${name}"`)
      const intents = seen.lease?.intents ?? []
      const takingOver = seen.lease !== null && seen.lease.expiresAt <= seen.now
      if (takingOver && intents.length > 0) await this.tombstone(intents, seen.lease!.term)
      const now = this.now(callerNow)
      const result = await this.db.write(
        this.t.leases.get(name).replace(
          (row: RDatum) =>
            r.branch(
              row.eq(null),
              { id: name, holder: owner, term: 1, expiresAt: now.add(ttlMs), stamp: 1, intents: [] },
              row('holder').eq(owner).and(row('expiresAt').gt(now)),
              row.merge({ expiresAt: now.add(ttlMs), stamp: row('stamp').add(1) }),
              row('expiresAt').gt(now),
              row,
              // Expired: taken only if no announcement came in since the tombstones were laid.
              row('intents').eq(r.expr(intents)),
              { id: name, holder: owner, term: row('term').add(1), expiresAt: now.add(ttlMs), stamp: row('stamp').add(1), intents: [] },
              row,
            ),
          { returnChanges: 'always', durability: 'hard' },
        ),
        `acquire lease "${name}"`,
      )
      writeOutcome(result, `acquire lease "${name}"`)
      const { before, after } = changed(result)
      if (!after) throw new StorageError(`lease "${name}" vanished while being acquired`)
      const moved = before === null || after.stamp !== before.stamp
      // Unchanged because the holder announced another commit since we looked: look again.
      const announcedMeanwhile = !moved && after.term === seen.lease?.term && JSON.stringify(after.intents) !== JSON.stringify(intents)
      if (!announcedMeanwhile) return stateOf(after)!
    }
    throw new StorageError(`lease "${name}": the holder kept announcing commits; gave up taking it over`, { code: 'STORAGE_UNAVAILABLE' })
  }

  async renew(name: string, owner: string, term: number, ttlMs: number, callerNow: number): Promise<LeaseState> {
    const now = this.now(callerNow)
    const result = await this.db.write(
      this.t.leases.get(name).replace(
        (row: RDatum) =>
          r.branch(
            row.ne(null).and(row('holder').eq(owner)).and(row('term').eq(term)).and(row('expiresAt').gt(now)),
            row.merge({ expiresAt: now.add(ttlMs), stamp: row('stamp').add(1) }),
            row,
          ),
        { returnChanges: 'always', durability: 'hard' },
      ),
      `renew lease "${name}"`,
    )
    writeOutcome(result, `renew lease "${name}"`)
    const { before, after } = changed(result)
    if (!after || !before || after.stamp === before.stamp) throw new LeaseLostError(name, term, after?.term ?? 0)
    return stateOf(after)!
  }

  async release(name: string, owner: string, term: number, callerNow: number): Promise<void> {
    const now = this.now(callerNow)
    const result = await this.db.write(
      this.t.leases.get(name).replace(
        (row: RDatum) =>
          r.branch(
            row.ne(null).and(row('holder').eq(owner)).and(row('term').eq(term)),
            row.merge({ expiresAt: r.branch(row('expiresAt').lt(now), row('expiresAt'), now), stamp: row('stamp').add(1) }),
            row,
          ),
        { durability: 'hard' },
      ),
      `release lease "${name}"`,
    )
    writeOutcome(result, `release lease "${name}"`)
  }

  async read(name: string): Promise<LeaseState | undefined> {
    return stateOf(await this.db.read<LeaseDoc | null>(this.t.leases.get(name), `read lease "${name}"`))
  }

  /** Records that the holder of `term` is about to insert `key`; LeaseLostError if `term` is no longer current. */
  async announce(name: string, term: number, key: CommitKey): Promise<void> {
    const result = await this.db.write(
      this.t.leases.get(name).update((row: RDatum) => r.branch(row('term').eq(term), { intents: row('intents').append(key), stamp: row('stamp').add(1) }, {}), {
        returnChanges: 'always',
        durability: 'hard',
      }),
      `announce a commit under lease "${name}"`,
    )
    writeOutcome(result, `announce a commit under lease "${name}"`)
    const change = result.changes?.[0]
    const after = (change?.new_val as LeaseDoc | null | undefined) ?? null
    const before = (change?.old_val as LeaseDoc | null | undefined) ?? null
    if (!after || !before || after.stamp === before.stamp) throw new LeaseLostError(name, term, after?.term ?? 0)
  }

  /** Withdraws an announcement once the insert is over (whatever its outcome). */
  async withdraw(name: string, key: CommitKey): Promise<void> {
    const result = await this.db.write(
      this.t.leases.get(name).update((row: RDatum) => ({ intents: row('intents').filter((i: RDatum) => i.ne(key)) })),
      `withdraw a commit from lease "${name}"`,
    )
    writeOutcome(result, `withdraw a commit from lease "${name}"`)
  }

  /** Blocks announced keys of a deposed term: a real commit already there stays (it landed in time). */
  private async tombstone(keys: readonly CommitKey[], term: number): Promise<void> {
    const docs: TombstoneDoc[] = keys.map((id) => ({ id, tombstone: true, term }))
    const result = await this.db.write(this.t.commits.insert(docs as unknown as CommitDoc[], { conflict: mergeTombstones, durability: 'hard' }), 'lay tombstones')
    writeOutcome(result, 'lay tombstones')
  }
}
