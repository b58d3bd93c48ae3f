import { r, type RDatum, type WriteResult } from 'rethinkdb-ts'
import { StorageError } from '../../errors.js'
import { keyText, type CommitDoc, type CommitKey, type HeadDoc, type SequenceEntry } from './documents.js'
import { SKIPPED_WRITE, writeOutcome } from './failures.js'
import type { RethinkConnection } from './RethinkConnection.js'
import type { Tables } from './schema.js'

const ENTRY_BATCH = 200
const PLAN_BATCH = 500
const MAX_ROUNDS = 10_000

interface Snapshot {
  head: HeadDoc
  entries: SequenceEntry[]
  pending: CommitDoc[]
  /** The commits just before each pending one in its stream, so a new entry is finished without a read. */
  predecessors: CommitView[]
}

/** What the sequencer knows of a commit: its stream, versions and (once final) its position. */
type CommitView = Pick<CommitDoc, 'id' | 'stream' | 'from' | 'count' | 'position'>

/** What one round learnt: the positions it saw, and which commits still wait for one. */
interface RoundResult {
  readonly views: ReadonlyMap<string, CommitView>
  readonly unplaced: ReadonlySet<string>
}

interface Waiter {
  readonly key: CommitKey
  readonly callbacks: Array<{ resolve: (position: number) => void; reject: (err: unknown) => void }>
}

/**
 * Gives commits their ever-increasing `position`, complete below a `head`, so that readAll and
 * subscriptions can read "everything up to the head" and never miss a commit that becomes
 * visible late.
 *
 * Timestamps are not unique across servers, and a shared counter leaves gaps and out-of-order
 * visibility (position 9 may appear after 10). Instead, positions are handed out in rounds:
 *
 * 1. A round inserts one `sequence` entry `n`, listing pending commits with their positions,
 *    numbered on from entry `n - 1`. The primary key makes racing sequencers collide, never overlap.
 * 2. Each listed commit takes its position with a conditional update (only if it has none),
 *    and only if its stream predecessor already has a lower one, checked on the server in the
 *    same write: per-stream order is position order, whatever the sequencer believed.
 *    A commit that cannot take it (someone else placed it first, or its predecessor is later)
 *    leaves a hole that nobody will ever fill: positions may have gaps, never reorderings.
 * 3. `head` moves past entry `n` once every commit it lists has a final position.
 *
 * The round that opens an entry finishes it at once, from what its snapshot read: a lone
 * append costs one snapshot read and three writes (entry, placement, head).
 *
 * Every step is idempotent and any process may run it (a crashed writer's commit is placed
 * by the next process that looks), so no lease is needed for safety: racing sequencers only
 * cost retries. Readers read positions up to `head` only.
 */
export class Sequencer {
  private readonly waiters = new Map<string, Waiter>()
  private running: Promise<void> | undefined

  constructor(
    private readonly db: RethinkConnection,
    private readonly t: Tables,
    private readonly onHeadMoved: () => void,
  ) {}

  /** Resolves with the commit's position once it has one (running rounds as needed). */
  positionOf(key: CommitKey): Promise<number> {
    return new Promise((resolve, reject) => {
      const text = keyText(key)
      const waiter = this.waiters.get(text) ?? { key, callbacks: [] }
      waiter.callbacks.push({ resolve, reject })
      this.waiters.set(text, waiter)
      this.kick()
    })
  }

  /** Runs rounds until no commit is pending (used to place commits of crashed writers). */
  async settle(): Promise<void> {
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const { unplaced } = await this.round()
      if (unplaced.size === 0) return
    }
  }

  private kick(): void {
    this.running ??= this.serve().finally(() => {
      this.running = undefined
      if (this.waiters.size > 0) this.kick()
    })
  }

  private async serve(): Promise<void> {
    let failures = 0
    for (let rounds = 0; this.waiters.size > 0; rounds++) {
      try {
        await this.answerWaiters(await this.round())
        failures = 0
      } catch (err) {
        // The connection waits for the server itself; a round that still fails is retried a few
        // times, then its waiters are told (their commits stay stored and will be placed later).
        if (++failures >= 5 || rounds > MAX_ROUNDS) {
          const waiters = [...this.waiters.values()]
          this.waiters.clear()
          for (const w of waiters) for (const c of w.callbacks) c.reject(err)
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** failures))
      }
    }
  }

  /**
   * Answers the waiters whose commit the round saw placed. Only a waiter the round knew nothing
   * of (placed by another process, in an entry already behind the head) costs a read; one still
   * pending simply waits for the next round.
   */
  private async answerWaiters(round: RoundResult): Promise<void> {
    const unknown: Waiter[] = []
    for (const [text, waiter] of this.waiters) {
      const position = round.views.get(text)?.position
      if (position !== undefined) this.answer(text, position)
      else if (!round.unplaced.has(text)) unknown.push(waiter)
    }
    if (unknown.length === 0) return
    const docs = await this.db.read<Array<Pick<CommitDoc, 'id' | 'position'>>>(
      this.t.commits.getAll(r.args(unknown.map((w) => w.key))).pluck('id', 'position').coerceTo('array'),
      'read positions',
    )
    const stored = new Set(docs.map((d) => keyText(d.id)))
    for (const doc of docs) if (doc.position !== undefined) this.answer(keyText(doc.id), doc.position)
    for (const waiter of unknown) {
      const text = keyText(waiter.key)
      if (stored.has(text)) continue
      this.waiters.delete(text)
      for (const c of waiter.callbacks) c.reject(new StorageError(`commit "${waiter.key[0]}"@${waiter.key[1]} is not stored`, { code: 'STORAGE' }))
    }
  }

  private answer(text: string, position: number): void {
    const waiter = this.waiters.get(text)
    this.waiters.delete(text)
    for (const c of waiter?.callbacks ?? []) c.resolve(position)
  }

  /**
   * One round: finish the open entries and move the head; then list the pending commits in a
   * new entry and finish that one at once, from what the snapshot already read.
   */
  private async round(): Promise<RoundResult> {
    const snap = await this.snapshot()
    const views = await this.finishEntries(snap.entries)
    let head = (await this.moveHead(snap.head, snap.entries, views)) ?? snap.head
    let headMoved = head !== snap.head
    let unplaced = snap.pending.filter((c) => views.get(keyText(c.id))?.position === undefined)
    // Only a full view of the open entries tells where the next entry starts.
    if (unplaced.length > 0 && snap.entries.length < ENTRY_BATCH) {
      const entry = await this.openEntry(snap, unplaced)
      if (entry) {
        const known = { commits: unplaced, predecessors: snap.predecessors }
        for (const [text, view] of await this.finishEntries([entry], known)) views.set(text, view)
        const open = [...snap.entries.filter((e) => e.id > head.seq), entry]
        const moved = await this.moveHead(head, open, views)
        if (moved) [head, headMoved] = [moved, true]
        unplaced = unplaced.filter((c) => views.get(keyText(c.id))?.position === undefined)
      }
    }
    if (headMoved) this.onHeadMoved()
    return { views, unplaced: new Set(unplaced.map((c) => keyText(c.id))) }
  }

  private async snapshot(): Promise<Snapshot> {
    const t = this.t
    return this.db.read<Snapshot>(
      t.meta
        .get('head')
        .do((head: RDatum) => ({
          head,
          entries: t.sequence.between(head('seq').add(1), r.maxval).orderBy({ index: 'id' }).limit(ENTRY_BATCH).coerceTo('array'),
          pending: t.commits.between(r.minval, r.maxval, { index: 'pending' }).orderBy({ index: 'pending' }).limit(PLAN_BATCH).pluck('id', 'stream', 'from', 'count').coerceTo('array'),
        }))
        .do((snap: RDatum) =>
          snap.merge({
            predecessors: snap('pending')
              .filter((c: RDatum) => c('from').gt(1))
              .map((c: RDatum) => [c('stream'), c('from').sub(1)])
              .do((keys: RDatum) =>
                r.branch(keys.isEmpty(), [], t.commits.getAll(r.args(keys), { index: 'stream_to' }).pluck('id', 'stream', 'from', 'count', 'position').coerceTo('array')),
              ),
          }),
        ),
      'read the sequence',
    )
  }

  /**
   * Gives each commit of the open entries its listed position where the rules allow, in
   * entry order, and returns what is now known of them (and of their predecessors). `known`
   * (what a snapshot just read of them) spares the read before; the read after is needed only
   * when another process placed some of them first.
   */
  private async finishEntries(
    entries: readonly SequenceEntry[],
    known?: { commits: readonly CommitView[]; predecessors: readonly CommitView[] },
  ): Promise<Map<string, CommitView>> {
    const views = new Map<string, CommitView>()
    // The same commits by [stream, last version]: a commit's predecessor ends where it begins.
    const byEnd = new Map<string, CommitView>()
    const listed = entries.flatMap((e) => e.commits.map((c) => ({ ...c, seq: e.id })))
    if (listed.length === 0) return views
    const keys = listed.map((c) => c.key)
    const predecessorKeys = keys.filter((k) => k[1] > 1).map((k) => [k[0], k[1] - 1])
    const read = async () => {
      const found = await this.db.read<{ commits: CommitView[]; predecessors: CommitView[] }>(
        r.expr({
          commits: this.t.commits.getAll(r.args(keys)).pluck('id', 'stream', 'from', 'count', 'position').coerceTo('array'),
          predecessors:
            predecessorKeys.length > 0
              ? this.t.commits.getAll(r.args(predecessorKeys), { index: 'stream_to' }).pluck('id', 'stream', 'from', 'count', 'position').coerceTo('array')
              : [],
        }),
        'read listed commits',
      )
      learn(found.predecessors, found.commits)
    }
    const learn = (predecessors: readonly CommitView[], commits: readonly CommitView[]) => {
      for (const c of [...predecessors, ...commits]) {
        views.set(keyText(c.id), c)
        byEnd.set(keyText([c.stream, c.from + c.count - 1]), c)
      }
    }
    if (known) learn(known.predecessors, known.commits)
    else await read()
    const claims: Array<{ key: CommitKey; first: number; seq: number }> = []
    for (const c of listed) {
      const view = views.get(keyText(c.key))
      if (!view || view.position !== undefined) continue
      if (c.key[1] > 1) {
        const predecessor = byEnd.get(keyText([view.stream, view.from - 1]))
        if (predecessor?.position === undefined || predecessor.position >= c.first) continue
      }
      claims.push(c)
      // Later commits of the same stream in these entries see this one as placed.
      const assumed = { ...view, position: c.first }
      views.set(keyText(c.key), assumed)
      byEnd.set(keyText([view.stream, view.from + view.count - 1]), assumed)
    }
    if (claims.length === 0) return views
    // Claims go in entry order, each checked on the server against its predecessor as it stands
    // then: a claim made on an assumption (the predecessor claimed just before, in this same
    // write) goes in only if that predecessor really holds a lower position. A position, once
    // set, never changes, so the check cannot be undone by a later write.
    const placed = await this.db.write<WriteResult<unknown>>(
      r.expr(claims.map((c) => ({ ...c, predecessor: c.key[1] > 1 ? [c.key[0], c.key[1] - 1] : null }))).forEach((claim: RDatum) =>
        r
          .branch(
            claim('predecessor').eq(null),
            true,
            this.t.commits
              .getAll(claim('predecessor'), { index: 'stream_to' })
              .nth(0)
              .default({})('position')
              .default(null)
              .do((p: RDatum) => p.ne(null).and(p.lt(claim('first')))),
          )
          .do((ready: RDatum) =>
            r.branch(
              ready,
              this.t.commits.get(claim('key')).replace((row: RDatum) =>
                r.branch(row.hasFields('pending'), row.without('pending').merge({ position: claim('first'), seq: claim('seq') }), row),
              ),
              SKIPPED_WRITE, // its predecessor is not placed, or not below it
            ),
          ),
      ),
      'place commits',
    )
    writeOutcome(placed, 'place commits')
    // Each claim replaced its commit, or someone placed it first elsewhere: then read what stands.
    if (placed.replaced !== claims.length) await read()
    return views
  }

  /** Moves the head past every leading entry whose commits all have their final position; returns the new head. */
  private async moveHead(head: HeadDoc, entries: readonly SequenceEntry[], views: Map<string, CommitView>): Promise<HeadDoc | undefined> {
    let next: HeadDoc | undefined
    for (const entry of entries) {
      if (entry.id !== (next ?? head).seq + 1) break
      if (!entry.commits.every((c) => views.get(keyText(c.key))?.position !== undefined)) break
      next = { id: 'head', seq: entry.id, position: entry.first + entry.count - 1 }
    }
    if (!next) return undefined
    const target = next
    const moved = await this.db.write(
      this.t.meta.get('head').update((row: RDatum) => r.branch(row('seq').lt(target.seq), { seq: target.seq, position: target.position }, {})),
      'move the head',
    )
    writeOutcome(moved, 'move the head')
    return target
  }

  /** Lists unplaced commits, each stream's in version order, in the entry after the last one; returns it unless another sequencer took its number. */
  private async openEntry(snap: Snapshot, unplaced: readonly CommitDoc[]): Promise<SequenceEntry | undefined> {
    const last = snap.entries[snap.entries.length - 1]
    const id = (last?.id ?? snap.head.seq) + 1
    let next = last ? last.first + last.count : snap.head.position + 1
    const ordered = [...unplaced].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.from - b.from))
    const commits = ordered.map((c) => {
      const first = next
      next += c.count
      return { key: c.id, first }
    })
    const entry: SequenceEntry = { id, first: commits[0]!.first, count: next - commits[0]!.first, commits }
    // A collision means another sequencer wrote entry `id` first: the next round finishes it.
    const outcome = writeOutcome(await this.db.write(this.t.sequence.insert(entry, { conflict: 'error' }), 'open a sequence entry'), 'open a sequence entry')
    return outcome === 'written' ? entry : undefined
  }
}
