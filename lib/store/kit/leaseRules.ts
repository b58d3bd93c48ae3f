import { LeaseLostError } from '../../errors.js'
import type { LeaseState } from '../StorageAdapter.js'

// The lease rules every adapter applies, inside its own atomic step, so they cannot drift.

/** The lease after `owner` tries to acquire it: unchanged when someone else holds it. */
export function leaseAfterAcquire(current: LeaseState | undefined, name: string, owner: string, ttlMs: number, now: number): LeaseState {
  if (current && current.holder === owner && current.expiresAt > now) return { ...current, expiresAt: now + ttlMs }
  if (current && current.expiresAt > now) return current
  return { name, holder: owner, term: (current?.term ?? 0) + 1, expiresAt: now + ttlMs }
}

/** The lease after a renewal; throws LeaseLostError when `owner` no longer holds `term`. */
export function leaseAfterRenew(current: LeaseState | undefined, name: string, owner: string, term: number, ttlMs: number, now: number): LeaseState {
  if (!current || current.holder !== owner || current.term !== term || current.expiresAt <= now) {
    throw new LeaseLostError(name, term, current?.term ?? 0)
  }
  return { ...current, expiresAt: now + ttlMs }
}

/** The lease after a release, or undefined when there is nothing to release. */
export function leaseAfterRelease(current: LeaseState | undefined, owner: string, term: number, now: number): LeaseState | undefined {
  if (!current || current.holder !== owner || current.term !== term) return undefined
  return { ...current, expiresAt: Math.min(current.expiresAt, now) }
}

/** Fencing: throws unless `term` is the lease's current term. */
export function assertCurrentTerm(current: LeaseState | undefined, name: string, term: number): void {
  if (!current || current.term !== term) throw new LeaseLostError(name, term, current?.term ?? 0)
}
