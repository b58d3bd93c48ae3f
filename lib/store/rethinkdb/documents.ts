import type { RDatum } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import type { EventEnvelope } from '../../envelope.js'
import { decodeEventData, decodeEventMeta, type EncodedEvent } from '../kit/eventJson.js'

// The documents RethinkStore keeps, and how events go in and out of them.

/** `[streamId, first version]`: two writers expecting the same version collide on it. */
export type CommitKey = [string, number]

/** One event inside a commit; data and meta as JSON text, so that replay returns exactly what was fired. */
export type StoredEvent = EncodedEvent

/**
 * One append: all its events in one document, because RethinkDB writes are atomic per
 * document only. It is inserted once, with its final `position` (of the first event), taken
 * from the log entry `seq` its writer opened just before (see Log.ts); it is never changed.
 */
export interface CommitDoc {
  id: CommitKey
  stream: string
  from: number
  to: number
  count: number
  /** The first event's id: a retried commit recognises itself by it. */
  commitId: string
  /** The append call that wrote it (see IdClaimDoc.attempt); absent on commits of an earlier release. */
  attempt?: string
  events: StoredEvent[]
  position: number
  /** The log entry that gave the position: only that entry's writer inserts commits with it. */
  seq: number
  /** Fencing: the lease term the commit was written under. */
  fenceTerm?: number
}

/**
 * A commit key blocked for some writers, who find it and fail, while any other writer replaces
 * it. Laid by a new lease holder at keys a deposed holder announced (see RethinkLeases.ts; `term`), by
 * a writer taking over the event ids of an abandoned commit (see IdClaims.ts; `blocked`), and
 * by whoever closes a log entry its writer left unfinished (see Log.ts; `closed`). The kinds
 * merge into one document when they meet at one key.
 */
export interface TombstoneDoc {
  id: CommitKey
  tombstone: true
  /** Fenced writers of this term or an older one are refused (0: none). */
  term: number
  /**
   * Attempts (IdClaimDoc.attempt, or the commitId of a claim without one) whose commit must
   * never land here: their event ids went to another attempt.
   */
  blocked?: string[]
  /** Log entries whose commits must never land here (their writer was gone, the entry is closed). */
  closed?: number[]
}

/** The attempt a commit or claim belongs to: its `attempt`, or (written by an earlier release) its commitId. */
export function attemptOf(doc: RDatum): RDatum {
  return doc('attempt').default(doc('commitId'))
}

/**
 * Conflict rule for laying a tombstone: a real commit stays; tombstones merge (the highest
 * term, every blocked commit), so fencing and abandoned ids can share a key.
 */
export const mergeTombstones = (_id: RDatum, old: RDatum, fresh: RDatum): RDatum =>
  r.branch(
    old.hasFields('tombstone'),
    old.merge({
      term: r.expr([old('term'), fresh('term')]).max(),
      blocked: old('blocked').default([]).setUnion(fresh('blocked').default([])),
      closed: old('closed').default([]).setUnion(fresh('closed').default([])),
    }),
    old,
  )

/**
 * Conflict rule of a commit insert: a tombstone gives way, except to a commit it blocks by id
 * (`blocked`), by log entry (`closed`) or, for fenced commits, by term. A real commit stays.
 */
export const commitConflict = (_id: RDatum, old: RDatum, fresh: RDatum): RDatum =>
  r.branch(
    old
      .hasFields('tombstone')
      .and(old('blocked').default([]).contains(attemptOf(fresh)).not())
      .and(old('closed').default([]).contains(fresh('seq')).not())
      .and(fresh.hasFields('fenceTerm').not().or(fresh('fenceTerm').gt(old('term')))),
    fresh,
    old,
  )

/** Who owns an event id: the commit that carries it, or is about to. */
export interface IdClaimDoc {
  /** The event id. */
  id: string
  commit: CommitKey
  commitId: string
  /**
   * The append call that claimed it (a random id per call, kept across its retries). Two
   * processes may send the same batch to the same key (a projection's old and new leader):
   * each judges only its own claims as its own, so one that fails never frees the ids of the
   * other's stored commit. Absent on claims of an earlier release.
   */
  attempt?: string
  /** Server time of the claim. */
  at: unknown
}

/**
 * One group of appends in the log: positions `first .. first + count - 1`, commit `i` of
 * `commits` at `first + commits[i].offset`. Entry `n` is inserted only by a writer that read
 * entry `n - 1` (or the head at `n - 1`), so its range follows the previous one exactly; the
 * primary key makes two writers collide instead of overlap. `token` lets its writer recognise
 * it after a lost answer; `at` (server time) tells others when its writer may be gone.
 */
export interface SequenceEntry {
  id: number
  first: number
  count: number
  token: string
  at: unknown
  commits: Array<{ key: CommitKey; offset: number }>
}

/** The highest log entry (and position) below which every commit is stored for good or never will be. */
export interface HeadDoc {
  id: typeof HEAD_KEY
  seq: number
  position: number
}

/**
 * The `log` table holds the head (key 0), the log entries (keys 1, 2, ...) and the event id
 * claims (keys: the event ids, strings). One table, so that a group's claims and its entry are
 * one insert and one flush. RethinkDB orders numbers before strings, so entries are the keys
 * from 1 to MAX_ENTRY.
 */
export const HEAD_KEY = 0
export const MAX_ENTRY = Number.MAX_SAFE_INTEGER

export interface SnapshotDoc {
  id: [string, string]
  snapshotVersion: number
  version: number
  state: string
  at: number
}

export interface CheckpointDoc {
  id: string
  position: number
}

export interface LeaseDoc {
  id: string
  holder: string
  term: number
  expiresAt: number
  /** Bumped by every change, so a caller can tell whether its conditional change applied. */
  stamp: number
  /** Commit keys the holder is inserting right now (fencing, see RethinkLeases.ts). */
  intents: CommitKey[]
}

/** The events of a positioned commit as envelopes. */
export function commitEnvelopes(commit: CommitDoc, position: number): EventEnvelope[] {
  return commit.events.map((e, i) => ({
    id: e.id,
    name: e.name,
    data: decodeEventData(e.data, commit.stream, commit.from + i, position + i),
    schemaVersion: e.schemaVersion,
    at: e.at,
    meta: decodeEventMeta(e.meta, commit.stream, commit.from + i, position + i),
    streamId: commit.stream,
    version: commit.from + i,
    position: position + i,
  }))
}

export function keyText(key: CommitKey): string {
  return `${key[0]}\u0000${key[1]}`
}
