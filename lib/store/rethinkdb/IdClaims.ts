import type { RDatum, WriteResult } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import { attemptOf, mergeTombstones, type CommitDoc, type CommitKey, type IdClaimDoc, type TombstoneDoc } from './documents.js'
import { SKIPPED_WRITE, writeOutcome } from './failures.js'
import type { RethinkConnection } from './RethinkConnection.js'
import type { Tables } from './schema.js'

/** A claim older than this whose commit never appeared is taken to be abandoned (a crashed writer). */
const ABANDONED_AFTER_S = 10

/** What became of another commit's claim on an id this append wants. */
export type TakeOver = 'taken' | 'stored' | 'busy'

/**
 * Event ids are unique across streams, but RethinkDB has no unique secondary index. So an
 * append first claims its ids in a table keyed by them (primary keys are unique), then inserts
 * its commit; an append that loses a claim to another commit does not insert. A claim whose
 * commit never appears (its writer crashed, or is held up) is taken over only once that commit
 * can never land: a tombstone blocking it goes to its key first. Readers never look here.
 */
export class IdClaims {
  constructor(
    private readonly db: RethinkConnection,
    private readonly t: Tables,
  ) {}

  /**
   * Claims event ids for commits (several appends' at once: one hard write); returns who owns
   * each id now: the commit named here, or the one that claimed it first.
   */
  async claim(claims: ReadonlyArray<Omit<IdClaimDoc, 'at'>>): Promise<IdClaimDoc[]> {
    const result = await this.db.write<WriteResult<IdClaimDoc>>(
      this.t.claims.insert(
        claims.map((c) => ({ ...c, at: r.now() })),
        { durability: 'hard', conflict: (_id: RDatum, old: RDatum, _fresh: RDatum) => old, returnChanges: 'always' },
      ),
      'claim event ids',
    )
    if (result.errors > 0) writeOutcome(result, 'claim event ids')
    return (result.changes ?? []).map((c) => c.new_val!)
  }

  /**
   * Drops the claims this attempt holds for this commit: its insert did not land, so they must
   * block nobody. Another attempt's claims stay, even for the same batch at the same key: its
   * commit may be stored.
   */
  async release(ids: readonly string[], commit: CommitKey, attempt: string): Promise<void> {
    const result = await this.db.write<WriteResult<IdClaimDoc>>(
      this.t.claims
        .getAll(r.args([...ids]))
        .filter((row: RDatum) => row('attempt').default(null).eq(attempt).and(row('commit').eq(commit)))
        .delete({ durability: 'hard' }),
      'release event ids',
    )
    if (result.errors > 0) writeOutcome(result, 'release event ids')
  }

  /**
   * Takes another attempt's claim over, if its commit is not stored and never will be: at once
   * for another attempt of the same batch (same commitId: an earlier call of this caller, or
   * another process sending the same batch), else once the claim is older than
   * ABANDONED_AFTER_S by the server's clock. A tombstone blocking that attempt (not the batch)
   * at its key goes first, so that a writer held up meanwhile cannot land it later.
   */
  async takeOver(claim: IdClaimDoc, commit: CommitKey, commitId: string, attempt: string): Promise<TakeOver> {
    const earlierAttempt = claim.commitId === commitId
    const theirs = claim.attempt ?? claim.commitId
    const blocking: TombstoneDoc = { id: claim.commit, tombstone: true, term: 0, blocked: [theirs] }
    const unchanged = (row: RDatum): RDatum => row.ne(null).and(attemptOf(row).eq(theirs)).and(row('commitId').eq(claim.commitId)).and(row('commit').eq(claim.commit))
    await this.db.write(
      this.t.claims.get(claim.id).do((current: RDatum) =>
        r.branch(
          unchanged(current).and(r.expr(earlierAttempt).or(current('at').lt(r.now().sub(ABANDONED_AFTER_S)))),
          this.t.commits.insert(blocking as unknown as CommitDoc, { durability: 'hard', conflict: mergeTombstones }),
          SKIPPED_WRITE,
        ),
      ),
      'block an abandoned commit',
    )
    const there = await this.db.read<CommitDoc | TombstoneDoc | null>(this.t.commits.get(claim.commit), 'read an abandoned commit')
    if (there && !('tombstone' in there) && there.commitId === claim.commitId) return 'stored'
    // Dead: its key is blocked for it, or holds another commit (a key takes one commit only).
    const dead = there !== null && ('tombstone' in there ? (there.blocked ?? []).includes(theirs) : true)
    if (!dead) return 'busy'
    await this.db.write(
      this.t.claims
        .get(claim.id)
        .replace(
          (row: RDatum) => r.branch(unchanged(row), { id: claim.id, commit, commitId, attempt, at: r.now() }, row),
          { durability: 'hard' },
        ),
      'take over an event id',
    )
    return 'taken'
  }
}

export function sameKey(a: CommitKey, b: CommitKey): boolean {
  return a[0] === b[0] && a[1] === b[1]
}
