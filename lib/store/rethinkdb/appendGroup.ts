import { randomUUID } from 'node:crypto'
import { r, type RDatum, type WriteResult } from 'rethinkdb-ts'
import type { NewEvent } from '../../envelope.js'
import { isOmniscientError, StorageError } from '../../errors.js'
import { commitConflict, commitEnvelopes, keyText, type CommitDoc, type CommitKey, type IdClaimDoc, type SequenceEntry, type StoredEvent, type TombstoneDoc } from './documents.js'
import { SKIPPED_WRITE, writeOutcome } from './failures.js'
import { sameKey, type IdClaims } from './idClaims.js'
import type { RethinkLeases } from './leases.js'
import type { Log } from './Log.js'
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

type Predecessor = Pick<CommitDoc, 'stream' | 'to' | 'seq'>

/** The key an append's commit goes under: `[stream, first version]`. */
export function commitKey(a: GroupAppend): CommitKey {
  return [a.streamId, a.expected + 1]
}

/**
 * Writes a group of appends (at most one per stream) together: three queries at once, then one.
 *
 * 1. At once: the claim of all their event ids (one hard insert); in one query, the read of
 *    each stream's predecessor commit and the opening of one log entry for all of them (one
 *    hard insert); and the announcement of fenced commits in their leases.
 * 2. One query: the insert of every commit that passed (one hard insert, per-document results).
 *
 * The head then moves past the entry off the appends' path (Log.finished).
 *
 * Each append keeps its own outcome: a conflict or a foreign id fails or retries that one only.
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
  private readonly lastCommits = new Map<string, { from: number; to: number }>()

  /** Remembers a stream's last commit (appended here, or read to the end). */
  saw(stream: string, from: number, to: number): void {
    this.lastCommits.delete(stream)
    this.lastCommits.set(stream, { from, to })
    if (this.lastCommits.size > MAX_REMEMBERED) this.lastCommits.delete(this.lastCommits.keys().next().value!)
  }

  async write(group: readonly GroupAppend[]): Promise<GroupOutcome[]> {
    const keys = group.map(commitKey)
    const claimDocs = group.flatMap((a, i) => a.events.map((e) => ({ id: e.id, commit: keys[i]!, commitId: a.events[0]!.id })))
    const token = randomUUID()
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
      const commitId = a.events[0]!.id
      const others = a.events.map((e) => owners.get(e.id)).filter((c): c is IdClaimDoc => !c || !(c.commitId === commitId && sameKey(c.commit, keys[i]!)))
      if (others.length > 0) return { kind: 'foreign', others: others.filter(Boolean) }
      if (a.expected === 0) return undefined
      const predecessor = found.find((c) => c.stream === a.streamId && c.to === a.expected)
      if (!predecessor) return { kind: 'conflict' }
      // A predecessor placed by a later entry (its writer opened after us): go again after it.
      if (!(predecessor.seq < entry.id)) return { kind: 'again' }
      return undefined
    })
    const offsets = new Map(entry.commits.map((c) => [keyText(c.key), c.offset]))
    const docOf = group.map((a, i): CommitDoc | undefined => {
      if (outcomes[i]) return undefined
      return {
        id: keys[i]!,
        stream: a.streamId,
        from: a.expected + 1,
        to: a.expected + a.events.length,
        count: a.events.length,
        commitId: a.events[0]!.id,
        events: a.stored,
        position: entry.first + offsets.get(keyText(keys[i]!))!,
        seq: entry.id,
        ...(a.lease ? { fenceTerm: a.lease.term } : {}),
      }
    })
    const docs = docOf.filter((d): d is CommitDoc => d !== undefined)
    let results: Map<string, CommitDoc | TombstoneDoc | null>
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
   * stands at each key when not every commit went in. Safe to send again: a commit finds itself
   * by its commitId and entry.
   */
  private async insert(docs: readonly CommitDoc[], entry: SequenceEntry): Promise<Map<string, CommitDoc | TombstoneDoc | null>> {
    const inserted =
      docs.length === 0
        ? SKIPPED_WRITE
        : await repeatable('append', () =>
            this.db.write<WriteResult<unknown>>(this.t.commits.insert(docs as CommitDoc[], { durability: 'hard', conflict: commitConflict }), `append to ${docs.length} stream(s)`),
          )
    if (inserted.errors > 0) writeOutcome(inserted, 'append')
    this.log.finished(entry)
    const stands = new Map<string, CommitDoc | TombstoneDoc | null>()
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
        this.saw(there.stream, there.from, there.to)
        return { kind: 'stored', result: { events: commitEnvelopes(there, there.position), alreadyStored: false } }
      }
      return { kind: 'storedBefore', commit: there }
    }
    if (!there) return { kind: 'failed', error: new StorageError(`append to "${a.streamId}": the commit is neither stored nor refused`, { code: 'STORAGE' }), release: false }
    if ((there.closed ?? []).includes(doc.seq)) return { kind: 'again' }
    if ((there.blocked ?? []).includes(doc.commitId)) return { kind: 'refused', by: 'blocked' }
    if (a.lease) return { kind: 'refused', by: 'fenced' }
    return { kind: 'failed', error: new StorageError(`append to "${a.streamId}": a tombstone refused an unfenced commit`, { code: 'STORAGE' }), release: true }
  }

  /** Withdraws the group's announcements (a lingering one is harmless: the next holder's tombstone meets a real commit). */
  private async withdraw(group: readonly GroupAppend[], keys: readonly CommitKey[]): Promise<void> {
    await Promise.all(
      group.map(async (a, i) => {
        if (!a.lease) return
        await this.leases.withdraw(a.lease.name, keys[i]!).catch((err: unknown) => {
          if (!isOmniscientError(err) || err.code !== 'STORE_CLOSED') this.onError(err)
        })
      }),
    )
  }
}

