import { createHash, timingSafeEqual } from 'node:crypto'
import { InvalidOptionsError } from '../errors.js'

// For Node (node:crypto). Shared by the sync server (re-exported from `omniscient-actors/sync-server`)
// and the inspector's server, neither of which knows the other.

/**
 * The fewest characters a token of `bearerTokens` may have. A table built from an unset
 * environment variable holds the key `"undefined"` (9 characters) and from an empty one `""`:
 * both are refused when the table is built, instead of becoming a login anyone can guess.
 */
export const MIN_TOKEN_LENGTH = 16

/**
 * An `authenticate` hook for serveSync from a fixed table of tokens. Each comparison runs in
 * constant time and every entry is compared, so how long a refusal takes says nothing about
 * how close a guess came, nor which entry it was near. A token shorter than
 * `MIN_TOKEN_LENGTH` (16) characters throws when the table is built (the error names the
 * entry's user, never the token); an empty or missing token presented is nobody.
 *
 * @example
 * serveSync(container, { authenticate: bearerTokens({ [process.env.ALICE_TOKEN!]: 'alice' }), authorize })
 */
export function bearerTokens<U>(tokens: Readonly<Record<string, U>>): (token: string | undefined) => U | undefined {
  const entries = Object.entries(tokens)
  entries.forEach(([token, user], i) => {
    if (token.length < MIN_TOKEN_LENGTH) {
      const who = typeof user === 'string' ? `user "${user}"` : `entry ${i + 1}`
      const unset = token === 'undefined' || token === 'null' || token === '' ? ' (an unset or empty variable?)' : ''
      throw new InvalidOptionsError('bearerTokens', [], [`{ [token]: user } with tokens of at least ${MIN_TOKEN_LENGTH} characters`], `the token of ${who} is ${token.length} characters long${unset}`)
    }
  })
  // Digests have one length, which timingSafeEqual requires, whatever the tokens' lengths.
  const table = entries.map(([token, user]) => ({ digest: digest(token), user }))
  return (token) => {
    if (token === undefined || token === '') return undefined
    const given = digest(token)
    let found: U | undefined
    for (const entry of table) if (timingSafeEqual(entry.digest, given) && found === undefined) found = entry.user
    return found
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}
