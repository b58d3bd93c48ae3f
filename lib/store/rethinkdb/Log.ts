import type { RDatum, WriteResult } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import { HEAD_KEY, keyText, MAX_ENTRY, mergeTombstones, type CommitDoc, type CommitKey, type HeadDoc, type SequenceEntry, type TombstoneDoc } from './documents.js'
import { writeOutcome } from './failures.js'
import type { RethinkConnection, Runnable } from './RethinkConnection.js'
import type { Tables } from './schema.js'

/** An entry past the head older than this (server time) whose writer has not finished it is closed by anyone. */
export const ORPHAN_AFTER_S = 1
const OPEN_BATCH = 200
// How long a finished entry's head move waits for the next group to carry it (see `finished`).
const CARRY_WAIT_MS = 2
const MAX_BACKOFF_MS = 20
// A reader waits this long at most for the head to pass this store's own appends.
const CATCH_UP_WAIT_MS = (ORPHAN_AFTER_S + 1) * 1000

/**
 * Conflict rule of an insert into the log table that may carry a head move (`Log.carry`): the
 * head goes from `n - 1` to `n` only, as in `headMove`; an entry or a claim already there stays.
 * (A conflict function's first argument is the primary key's name, not its value: the head is
 * recognised by the old document's id.)
 */
export const carriedHead = (_key: RDatum, old: RDatum, fresh: RDatum): RDatum => r.branch(old('id').eq(HEAD_KEY).and(old('seq').eq(fresh('seq').sub(1))), fresh, old)

/** Where each commit of an entry goes (`offset` from its first position), and how many positions it spans. */
export function entryLayout(commits: ReadonlyArray<{ key: CommitKey; count: number }>): Pick<SequenceEntry, 'commits' | 'count'> {
  let count = 0
  const listed = commits.map((c) => {
    const offset = count
    count += c.count
    return { key: c.key, offset }
  })
  return { commits: listed, count }
}

/**
 * The log of append groups, which gives commits their positions, and the head readers read up to.
 *
 * Server timestamps are not unique across servers, and a shared counter leaves holes and
 * out-of-order visibility (position 9 may appear after 10). So a group of appends first opens
 * one entry `n` in the `log` table, numbered on from the highest entry, whose positions follow entry
 * `n - 1`'s (the primary key makes two writers collide rather than overlap); then its writer
 * inserts the group's commits, each with its final position, and never changes them. Only the
 * writer of entry `n` inserts commits of entry `n`, and only after opening it: a commit that
 * fails its checks leaves a hole (positions may have gaps, never reorderings).
 *
 * The `head` moves past entry `n` once entry `n`'s commits are stored for good or never will be:
 * at once by its writer (in the query that inserts them) when the head is at `n - 1`; else by
 * `advance`, here or in any other process. An entry whose writer is gone (older than
 * ORPHAN_AFTER_S and not finished) is closed: each listed commit that is not there gets a
 * tombstone refusing commits of that entry, so a writer that was only held up cannot land it
 * below the head later (it goes again in a new entry). Readers read positions up to the head
 * only, so nothing ever appears below what they have read.
 */
export class Log {
  /** Entries this store has finished (their writer's inserts are over), not yet behind the head. */
  private readonly finishedHere = new Set<number>()
  /** The head must pass this entry (finished here, or left unfinished by a failed insert). */
  private target = 0
  private moving: Promise<void> | undefined
  private moves: Promise<void> = Promise.resolve()
  /** Head moves in `moves` not done yet: a move is carried only when none is (they land in order). */
  private movesPending = 0
  /** The newest finished entry whose head move waits to be carried by the next group's query. */
  private waiting: { entry: SequenceEntry; timer: NodeJS.Timeout } | undefined
  private stopped = false

  constructor(
    private readonly db: RethinkConnection,
    private readonly t: Tables,
    private readonly onHeadMoved: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Opens the next entry for commits of `counts` events, or finds the one an earlier attempt
   * with this `token` opened (its answer was lost); `read` is read first, in the same query.
   * The entry is undefined when another writer took the number first: open again.
   */
  async open<T>(token: string, commits: ReadonlyArray<{ key: CommitKey; count: number }>, read: Runnable): Promise<{ entry: SequenceEntry | undefined; read: T }> {
    const t = this.t
    const doc = { token, ...entryLayout(commits), at: r.now() }
    // Objects built on the server are written with r.object: rethinkdb-ts's typing of r.expr and
    // r.branch over objects holding queries can exhaust the type checker.
    const entry: RDatum = t.head.do((head: RDatum): RDatum =>
      t.entries
        .between(head('seq').add(1), MAX_ENTRY, { rightBound: 'closed' })
        .coerceTo('array')
        .do((open: RDatum): RDatum => {
          const mine: RDatum = open.filter({ token })
          const next: RDatum = r.branch(
            open.isEmpty(),
            r.object('id', head('seq').add(1), 'first', head('position').add(1)),
            open.max('id').do((last: RDatum) => r.object('id', last('id').add(1), 'first', last('first').add(last('count')))),
          )
          const insert = (n: RDatum): RDatum => {
            const fresh: RDatum = r.expr(doc).merge(n)
            return t.entries.insert(fresh, { conflict: 'error', durability: 'hard' }).do((res: RDatum) => r.branch(res('inserted').eq(1), fresh, null))
          }
          return r.branch(mine.isEmpty().not(), mine.nth(0), next.do(insert))
        }),
    )
    const query = r
      .expr(null)
      .do(() => read)
      .do((before: RDatum) => r.object('read', before, 'entry', entry))
    const found = await this.db.write<{ entry: SequenceEntry | null; read: T }>(query, 'open a log entry')
    return { entry: found.entry ?? undefined, read: found.read }
  }

  /**
   * Entry `entry`'s writer here is done with it (its commits are stored, or never will be): the
   * head moves past it, right after this store's earlier entries, off the appends' path (the
   * next group's queries go meanwhile). Readers of this store wait for it (`caughtUp`), so a
   * process reads its own appends.
   */
  finished(entry: SequenceEntry): void {
    this.finishedHere.add(entry.id)
    this.sendWaiting()
    // A group sent within CARRY_WAIT_MS carries the move in its first insert (`carry`): no
    // write of its own, no flush beside that group's. Else it goes alone.
    this.waiting = { entry, timer: setTimeout(() => this.sendWaiting(), CARRY_WAIT_MS) }
  }

  private sendWaiting(): void {
    const waiting = this.waiting
    if (!waiting) return
    clearTimeout(waiting.timer)
    this.waiting = undefined
    this.chain(() => this.moveFast(waiting.entry))
  }

  private chain(move: () => Promise<void>): void {
    this.movesPending++
    this.moves = this.moves.then(move).finally(() => this.movesPending--)
  }

  /**
   * Hands the waiting head move to a query about to be sent: `doc` goes into that query's
   * insert into the log table, whose conflict rule is `carriedHead`; `settle` is told whether
   * that insert moved the head (undefined if the query failed: the move then goes alone; false
   * when the head was not at `n - 1`: `advance` follows, as after `headMove`).
   * Readers of this store wait for it meanwhile.
   */
  carry(): { doc: HeadDoc; settle(moved: boolean | undefined): void } | undefined {
    const waiting = this.waiting
    if (!waiting || this.movesPending > 0) return undefined
    clearTimeout(waiting.timer)
    this.waiting = undefined
    const { entry } = waiting
    let settle!: (moved: boolean | undefined) => void
    const settled = new Promise<boolean | undefined>((resolve) => (settle = resolve))
    this.chain(async () => {
      const moved = await settled
      if (moved === undefined) return this.moveFast(entry)
      if (moved) this.moveDone(entry, 'moved')
      else this.follow(entry.id)
    })
    return { doc: { id: HEAD_KEY, seq: entry.id, position: entry.first + entry.count - 1 }, settle }
  }

  /**
   * Resolves once the head is past this store's finished entries, or (when it waits for another
   * writer's entry) after at most CATCH_UP_WAIT_MS: a reader never waits long for it.
   */
  async caughtUp(): Promise<void> {
    this.sendWaiting()
    await this.moves
    const moving = this.moving
    if (!moving) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([moving, new Promise((resolve) => (timer = setTimeout(resolve, CATCH_UP_WAIT_MS)))])
    clearTimeout(timer)
  }

  /** The head goes from `n - 1` to `n`, only from there. */
  private headMove(entry: SequenceEntry): Runnable {
    const target = { seq: entry.id, position: entry.first + entry.count - 1 }
    return this.t.head.update((row: RDatum) => r.branch(row('seq').eq(entry.id - 1), target, {}), { durability: 'hard' })
  }

  /** What came of a head move: if the head was not at `n - 1`, the slower `advance` follows. */
  private moveDone(entry: SequenceEntry, result: WriteResult<unknown> | 'moved' | undefined): void {
    if (result === 'moved' || (result && writeOutcome(result, 'move the head') === 'written')) {
      this.finishedHere.delete(entry.id)
      this.onHeadMoved()
      return
    }
    this.follow(entry.id)
  }

  private async moveFast(entry: SequenceEntry): Promise<void> {
    let result: WriteResult<unknown> | undefined
    try {
      result = await this.db.write<WriteResult<unknown>>(this.headMove(entry), 'move the head')
    } catch (err) {
      this.onError(err)
    }
    this.moveDone(entry, result)
  }

  /** Entry `entry`'s inserts failed half-way (their fate unknown): others close it once it is old. */
  unfinished(entry: SequenceEntry): void {
    this.follow(entry.id)
  }

  private follow(seq: number): void {
    this.target = Math.max(this.target, seq)
    this.moving ??= this.moveUntilPast().finally(() => (this.moving = undefined))
  }

  /** Stops following (the store closes): what is left is finished by others. */
  stop(): void {
    this.stopped = true
    clearTimeout(this.waiting?.timer)
  }

  private async moveUntilPast(): Promise<void> {
    for (let wait = 2; !this.stopped; wait = Math.min(MAX_BACKOFF_MS, wait * 2)) {
      try {
        if ((await this.advance()) >= this.target) return
      } catch (err) {
        this.onError(err)
      }
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  /**
   * Moves the head past every entry after it whose commits are settled: finished here, all
   * stored, or (an entry whose writer is gone) closed by tombstones. Returns the head's entry.
   */
  async advance(): Promise<number> {
    const t = this.t
    const snap = await this.db.read<{ head: HeadDoc; entries: SequenceEntry[]; now: Date }>(
      t.head.do((head: RDatum) => r.object('head', head, 'entries', t.entries.between(head('seq').add(1), MAX_ENTRY, { rightBound: 'closed' }).orderBy({ index: 'id' }).limit(OPEN_BATCH).coerceTo('array'), 'now', r.now())),
      'read the log',
    )
    let { seq, position } = snap.head
    for (const entry of snap.entries) {
      if (entry.id !== seq + 1) break
      if (!this.finishedHere.has(entry.id) && !(await this.settled(entry, snap.now))) break
      seq = entry.id
      position = entry.first + entry.count - 1
    }
    for (const done of this.finishedHere) if (done <= seq) this.finishedHere.delete(done)
    if (seq === snap.head.seq) return seq
    const target = { seq, position }
    const moved = await this.db.write(
      t.head.update((row: RDatum) => r.branch(row('seq').lt(target.seq), target, {}), { durability: 'hard' }),
      'move the head',
    )
    writeOutcome(moved, 'move the head')
    this.onHeadMoved()
    return seq
  }

  /** Whether an entry finished elsewhere is settled; closes it if its writer is gone. */
  private async settled(entry: SequenceEntry, now: Date): Promise<boolean> {
    const keys = entry.commits.map((c) => c.key)
    const there: Array<CommitDoc | TombstoneDoc> = keys.length === 0 ? [] : await this.db.read(this.t.commits.getAll(r.args(keys)).coerceTo('array'), 'read listed commits')
    const landed = new Set(there.filter((c) => 'seq' in c && c.seq === entry.id).map((c) => keyText(c.id)))
    const missing = keys.filter((k) => !landed.has(keyText(k)))
    if (missing.length === 0) return true
    const at = entry.at instanceof Date ? entry.at.getTime() : now.getTime()
    if (now.getTime() - at < ORPHAN_AFTER_S * 1000) return false
    // Its writer is gone or held up: from now on none of these may land with this entry.
    const tombstones: TombstoneDoc[] = missing.map((id) => ({ id, tombstone: true, term: 0, closed: [entry.id] }))
    const result = await this.db.write(this.t.commits.insert(tombstones as unknown as CommitDoc[], { conflict: mergeTombstones, durability: 'hard' }), 'close a log entry')
    if (result.errors > 0) writeOutcome(result, 'close a log entry')
    return true
  }
}
