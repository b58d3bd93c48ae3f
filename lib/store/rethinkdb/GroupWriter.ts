import { randomUUID } from 'node:crypto'
import type { RDatum, WriteResult } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import type { NewEvent } from '../../envelope.js'
import { isStoreClosedError, StorageError } from '../../errors.js'
import { commitConflict, commitEnvelopes, keyText, type CommitDoc, type CommitKey, type IdClaimDoc, type SequenceEntry, type StoredEvent, type TombstoneDoc } from './documents.js'
import { SKIPPED_WRITE, writeOutcome } from './failures.js'
import { sameKey, type IdClaims } from './IdClaims.js'
import type { RethinkLeases } from './RethinkLeases.js'
import { carriedHead, entryLayout, type Log } from './Log.js'
import { repeatable } from './repeatable.js'
import type { RethinkConnection, Runnable } from './RethinkConnection.js'
import type { Tables } from './schema.js'
import type { AppendResult } from '../StorageAdapter.js'

/** One append as the group writer sees it: `expected` is a number here (`'any'` was read before). */
export interface GroupAppend {
  readonly streamId: string
  readonly events: readonly NewEvent[]
  readonly stored: StoredEvent[]
  readonly expected: number
  /** The append call this is part of (IdClaimDoc.attempt). */
  readonly attempt: string
  readonly lease?: { readonly name: string; readonly term: number }
}

/** What became of one append of a group; the store turns each into a result, an error or another try. */
export type GroupOutcome =
  | { readonly kind: 'stored'; readonly result: AppendResult }
  /** Not stored, nothing to undo: send it again (its entry was closed, or its predecessor is placed later). */
  | { readonly kind: 'again' }
  /** This batch was stored by an earlier append (same first event id). */
  | { readonly kind: 'storedBefore'; readonly commit: CommitDoc }
  /** Some ids are claimed by other commits: settled one by one by the store. */
  | { readonly kind: 'foreign'; readonly others: readonly IdClaimDoc[] }
  /** The stream is not at `expected`: its claims are to be given back. */
  | { readonly kind: 'conflict' }
  /** Refused by a tombstone at its key: its ids were taken over (`blocked`), or its lease term is over (`fenced`). */
  | { readonly kind: 'refused'; readonly by: 'blocked' | 'fenced' }
  /** Failed; `release` says whether its claims are to be given back (they are its own, and nothing landed). */
  | { readonly kind: 'failed'; readonly error: unknown; readonly release: boolean }

const MAX_OPEN_ATTEMPTS = 50
const MAX_REMEMBERED = 10_000
// After this many missed guesses in a row, groups go the slow way for up to 2^n - 1 groups.
const MAX_MISSES = 6

type Predecessor = Pick<CommitDoc, 'stream' | 'to' | 'seq'>
type Stands = Map<string, CommitDoc | TombstoneDoc | null>

/** The key an append's commit goes under: `[stream, first version]`. */
export function commitKey(a: GroupAppend): CommitKey {
  return [a.streamId, a.expected + 1]
}

/**
 * Writes a group of appends (at most one per stream) together, in one of two ways.
 *
 * At once (one query), when this store wrote the newest log entry it knows of, `n`, and knows
 * every append's predecessor commit (stored in an entry up to `n`): the group guesses it opens
 * entry `n + 1`, whose positions follow `n`'s. One hard insert into the log table holds the
 * entry and the claims of all the group's event ids; if every document of it went in (the
 * number was free and every id unclaimed), the same query inserts the commits. The previous
 * group's head move rides in that first insert when it is still waiting (Log.carry). A wrong guess
 * only finds entry `n + 1` taken (entries are never deleted), and the group goes in steps,
 * with the same token and claims.
 *
 * In steps:
 * 1. At once: the claim of all their event ids (one hard insert); in one query, the read of
 *    each stream's predecessor commit and the opening of one log entry for all of them (one
 *    hard insert); and the announcement of fenced commits in their leases.
 * 2. One query: the insert of every commit that passed (one hard insert, per-document results).
 *
 * Either way the head then moves past the entry off the appends' path (Log.finished), and each
 * append keeps its own outcome: a conflict or a foreign id fails or retries that one only.
 */
export class GroupWriter {
  constructor(
    private readonly db: RethinkConnection,
    private readonly t: Tables,
    private readonly claims: IdClaims,
    private readonly log: Log,
    private readonly leases: RethinkLeases,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * The last commit seen of recently written streams (`[stream, from]` and its `to`): the next
   * append's predecessor is then read by its primary key, which costs the server far less than
   * a secondary index. Only a hint: what is read is checked, and a miss falls back to the index.
   */
  private readonly lastCommits = new Map<string, Predecessor & { from: number }>()
  /** The newest log entry this store opened: the next group guesses the one after it. */
  private newest: Pick<SequenceEntry, 'id' | 'first' | 'count'> | undefined
  private misses = 0
  private slowGroups = 0

  /** Remembers a stream's last commit (appended here, or read to the end). */
  saw(commit: Predecessor & { from: number }): void {
    this.lastCommits.delete(commit.stream)
    this.lastCommits.set(commit.stream, { stream: commit.stream, from: commit.from, to: commit.to, seq: commit.seq })
    if (this.lastCommits.size > MAX_REMEMBERED) this.lastCommits.delete(this.lastCommits.keys().next().value!)
  }

  async write(group: readonly GroupAppend[]): Promise<GroupOutcome[]> {
    const keys = group.map(commitKey)
    const claimDocs = group.flatMap((a, i) => a.events.map((e) => ({ id: e.id, commit: keys[i]!, commitId: a.events[0]!.id, attempt: a.attempt })))
    const token = randomUUID()
    const next = this.guess(group)
    if (next) {
      const outcomes = await this.writeAtOnce(group, keys, claimDocs, token, next)
      if (outcomes) return outcomes
    }
    return this.writeInSteps(group, keys, claimDocs, token)
  }

  /**
   * The entry a group may open at once: the one after this store's newest, when every append's
   * predecessor is known to be in an entry up to it (and no append is fenced: its lease
   * announcement must land before its commit). Undefined: go in steps.
   */
  private guess(group: readonly GroupAppend[]): Pick<SequenceEntry, 'id' | 'first'> | undefined {
    const newest = this.newest
    if (!newest) return undefined
    if (this.slowGroups > 0) {
      this.slowGroups--
      return undefined
    }
    for (const a of group) {
      if (a.lease) return undefined
      if (a.expected === 0) continue
      const last = this.lastCommits.get(a.streamId)
      if (last?.to !== a.expected || last.seq > newest.id) return undefined
    }
    return { id: newest.id + 1, first: newest.first + newest.count }
  }

  /** A log entry opened here (at once or in steps): later groups guess the one after it. */
  private opened(entry: SequenceEntry): void {
    if (!this.newest || entry.id > this.newest.id) this.newest = { id: entry.id, first: entry.first, count: entry.count }
  }

  /**
   * The group in one query (see the class comment). Undefined when it is to go in steps: the
   * guessed entry was taken, an id was claimed already, or the query failed (the steps send
   * the same entry token and claims, so they find whatever of this query landed).
   */
  private async writeAtOnce(group: readonly GroupAppend[], keys: readonly CommitKey[], claimDocs: ReadonlyArray<Omit<IdClaimDoc, 'at'>>, token: string, next: Pick<SequenceEntry, 'id' | 'first'>): Promise<GroupOutcome[] | undefined> {
    const entry: SequenceEntry = { ...next, token, ...entryLayout(group.map((a, i) => ({ key: keys[i]!, count: a.events.length }))), at: r.now() }
    const docs = group.map((a, i) => this.commitDoc(a, keys[i]!, entry, entry.commits[i]!.offset))
    // The head move of this store's previous group rides along when it is still waiting.
    const carried = this.log.carry()
    const log = [entry, ...claimDocs.map((c) => ({ ...c, at: r.now() })), ...(carried ? [carried.doc] : [])] as unknown as SequenceEntry[]
    // The head moved iff the insert replaced a document: entries and claims already there stay.
    const query = this.t.entries
      .insert(log, { durability: 'hard', conflict: carriedHead })
      .do((w: RDatum) =>
        r.object('headMoved', w('replaced').eq(1), 'commits', r.branch(w('inserted').eq(1 + claimDocs.length), this.t.commits.insert(docs, { durability: 'hard', conflict: commitConflict }), null)),
      )
    let answer: { headMoved: boolean; commits: WriteResult<unknown> | null }
    try {
      answer = await repeatable('append', () => this.db.write<typeof answer>(query, `append to ${docs.length} stream(s)`))
    } catch {
      carried?.settle(undefined)
      return undefined
    }
    carried?.settle(answer.headMoved)
    if (!answer.commits) {
      if (await this.taken(entry)) this.missed()
      return undefined
    }
    this.misses = 0
    this.opened(entry)
    let stands: Stands
    try {
      stands = await this.stands(docs, answer.commits, entry)
    } catch (err) {
      this.log.unfinished(entry)
      return group.map(() => ({ kind: 'failed', error: err, release: false }))
    }
    return group.map((a, i) => this.outcome(a, docs[i]!, stands.get(keyText(keys[i]!)) ?? null))
  }

  /** Whether another writer holds the entry this store guessed (a failed read counts as no). */
  private async taken(entry: SequenceEntry): Promise<boolean> {
    const token = await this.db.read<string | null>(this.t.entries.get(entry.id)('token').default(null), 'read a log entry').catch(() => null)
    return token !== null && token !== entry.token
  }

  /** Another writer took the guessed entry: the next groups go in steps for a while (1, 3, 7... groups). */
  private missed(): void {
    this.misses = Math.min(MAX_MISSES, this.misses + 1)
    this.slowGroups = 2 ** this.misses - 1
  }

  private commitDoc(a: GroupAppend, key: CommitKey, entry: SequenceEntry, offset: number): CommitDoc {
    return {
      id: key,
      stream: a.streamId,
      from: a.expected + 1,
      to: a.expected + a.events.length,
      count: a.events.length,
      commitId: a.events[0]!.id,
      attempt: a.attempt,
      events: a.stored,
      position: entry.first + offset,
      seq: entry.id,
      ...(a.lease ? { fenceTerm: a.lease.term } : {}),
    }
  }

  private async writeInSteps(group: readonly GroupAppend[], keys: readonly CommitKey[], claimDocs: ReadonlyArray<Omit<IdClaimDoc, 'at'>>, token: string): Promise<GroupOutcome[]> {
    const [claimed, opened, ...announced] = await Promise.allSettled([
      repeatable('claim event ids', () => this.claims.claim(claimDocs)),
      this.open(token, group.map((a, i) => ({ key: keys[i]!, count: a.events.length })), this.predecessors(group)),
      ...group.map((a, i) => (a.lease ? this.leases.announce(a.lease.name, a.lease.term, keys[i]!) : Promise.resolve())),
    ])
    const withdraw = () => this.withdraw(group, keys)
    if (opened.status === 'rejected') {
      await withdraw()
      return group.map(() => ({ kind: 'failed', error: opened.reason as unknown, release: false }))
    }
    const { entry, read: found } = opened.value
    if (claimed.status === 'rejected') {
      // Nothing of this entry will ever be inserted: it is finished as it is.
      this.log.finished(entry)
      await withdraw()
      return group.map(() => ({ kind: 'failed', error: claimed.reason as unknown, release: false }))
    }
    const owners = new Map(claimed.value.map((c) => [c.id, c]))
    const outcomes: Array<GroupOutcome | undefined> = group.map((a, i) => {
      const announce = announced[i]!
      if (announce.status === 'rejected') return { kind: 'failed', error: announce.reason as unknown, release: true }
      const ours = (c: IdClaimDoc | undefined) => c !== undefined && c.attempt === a.attempt && sameKey(c.commit, keys[i]!)
      const claims = a.events.map((e) => owners.get(e.id))
      // An id missing from the answer (the insert returns every claim) is not known to be
      // ours either: the append then settles the others it found and goes again.
      if (!claims.every(ours)) return { kind: 'foreign', others: claims.filter((c): c is IdClaimDoc => c !== undefined && !ours(c)) }
      if (a.expected === 0) return undefined
      const predecessor = found.find((c) => c.stream === a.streamId && c.to === a.expected)
      if (!predecessor) return { kind: 'conflict' }
      // A predecessor placed by a later entry (its writer opened after us): go again after it.
      if (!(predecessor.seq < entry.id)) return { kind: 'again' }
      return undefined
    })
    this.opened(entry)
    const offsets = new Map(entry.commits.map((c) => [keyText(c.key), c.offset]))
    const docOf = group.map((a, i) => (outcomes[i] ? undefined : this.commitDoc(a, keys[i]!, entry, offsets.get(keyText(keys[i]!))!)))
    const docs = docOf.filter((d): d is CommitDoc => d !== undefined)
    let results: Stands
    try {
      results = await this.insert(docs, entry)
    } catch (err) {
      // Their fate is unknown: the entry stays open until others close it (then they go again).
      this.log.unfinished(entry)
      await withdraw()
      return group.map((_, i) => outcomes[i] ?? { kind: 'failed', error: err, release: false })
    }
    await withdraw()
    return group.map((a, i) => outcomes[i] ?? this.outcome(a, docOf[i]!, results.get(keyText(keys[i]!)) ?? null))
  }

  /**
   * The commits the group's appends follow (`to` = their expected version), read with the
   * entry's opening: by primary key where the last commit of the stream is remembered.
   */
  private predecessors(group: readonly GroupAppend[]): Runnable {
    const byKey: CommitKey[] = []
    const byIndex: Array<[string, number]> = []
    for (const a of group) {
      if (a.expected === 0) continue
      const last = this.lastCommits.get(a.streamId)
      if (last?.to === a.expected) byKey.push([a.streamId, last.from])
      else byIndex.push([a.streamId, a.expected])
    }
    const none: RDatum = r.expr([])
    return r.object(
      'byKey',
      byKey.length === 0 ? none : this.t.commits.getAll(r.args(byKey)).pluck('stream', 'to', 'seq').coerceTo('array'),
      'byIndex',
      byIndex.length === 0 ? none : this.t.commits.getAll(r.args(byIndex), { index: 'stream_to' }).pluck('stream', 'to', 'seq').coerceTo('array'),
    )
  }

  /** Opens the group's entry (again after a collision with another writer), reading `read` first. */
  private async open(token: string, commits: ReadonlyArray<{ key: CommitKey; count: number }>, read: Runnable): Promise<{ entry: SequenceEntry; read: Predecessor[] }> {
    for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
      const opened = await repeatable('open a log entry', () => this.log.open<{ byKey: Predecessor[]; byIndex: Predecessor[] }>(token, commits, read))
      if (opened.entry) return { entry: opened.entry, read: [...opened.read.byKey, ...opened.read.byIndex] }
    }
    throw new StorageError(`could not open a log entry: other writers kept taking the next number (${MAX_OPEN_ATTEMPTS} attempts)`, { code: 'STORAGE_UNAVAILABLE' })
  }

  /**
   * Inserts the commits (one hard write), then has the head moved past the entry; returns what
   * stands at each key. Safe to send again: a commit finds itself by its commitId and entry.
   */
  private async insert(docs: readonly CommitDoc[], entry: SequenceEntry): Promise<Stands> {
    const inserted =
      docs.length === 0
        ? SKIPPED_WRITE
        : await repeatable('append', () =>
            this.db.write<WriteResult<unknown>>(this.t.commits.insert(docs as CommitDoc[], { durability: 'hard', conflict: commitConflict }), `append to ${docs.length} stream(s)`),
          )
    return this.stands(docs, inserted, entry)
  }

  /**
   * After the commits' insert: has the head moved past the entry, and returns what stands at
   * each commit's key (read back only when not every commit went in).
   */
  private async stands(docs: readonly CommitDoc[], inserted: WriteResult<unknown>, entry: SequenceEntry): Promise<Stands> {
    if (inserted.errors > 0) writeOutcome(inserted, 'append')
    this.log.finished(entry)
    const stands: Stands = new Map()
    if (inserted.inserted === docs.length) {
      for (const d of docs) stands.set(keyText(d.id), d)
      return stands
    }
    const there = await this.db.read<Array<CommitDoc | TombstoneDoc>>(this.t.commits.getAll(r.args(docs.map((d) => d.id))).coerceTo('array'), 'read commits back')
    for (const d of there) stands.set(keyText(d.id), d)
    return stands
  }

  /** One append's outcome from what stands at its key after the insert. */
  private outcome(a: GroupAppend, doc: CommitDoc, there: CommitDoc | TombstoneDoc | null): GroupOutcome {
    if (there && !('tombstone' in there)) {
      if (there.commitId !== doc.commitId) return { kind: 'conflict' }
      if (there.seq === doc.seq) {
        this.saw(there)
        return { kind: 'stored', result: { events: commitEnvelopes(there, there.position), alreadyStored: false } }
      }
      return { kind: 'storedBefore', commit: there }
    }
    if (!there) return { kind: 'failed', error: new StorageError(`append to "${a.streamId}": the commit is neither stored nor refused`, { code: 'STORAGE' }), release: false }
    if ((there.closed ?? []).includes(doc.seq)) return { kind: 'again' }
    if ((there.blocked ?? []).includes(doc.attempt ?? doc.commitId)) return { kind: 'refused', by: 'blocked' }
    if (a.lease) return { kind: 'refused', by: 'fenced' }
    return { kind: 'failed', error: new StorageError(`append to "${a.streamId}": a tombstone refused an unfenced commit`, { code: 'STORAGE' }), release: true }
  }

  /** Withdraws the group's announcements (a lingering one is harmless: the next holder's tombstone meets a real commit). */
  private async withdraw(group: readonly GroupAppend[], keys: readonly CommitKey[]): Promise<void> {
    await Promise.all(
      group.map(async (a, i) => {
        if (!a.lease) return
        await this.leases.withdraw(a.lease.name, keys[i]!).catch((err: unknown) => {
          if (!isStoreClosedError(err)) this.onError(err)
        })
      }),
    )
  }
}

