import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * An `authenticate` hook for serveSync from a fixed table of tokens. Each comparison runs in
 * constant time and every entry is compared, so how long a refusal takes says nothing about
 * how close a guess came, nor which entry it was near.
 *
 * @example
 * serveSync(container, { authenticate: bearerTokens({ [process.env.ALICE_TOKEN!]: 'alice' }), authorize })
 */
export function bearerTokens<U>(tokens: Readonly<Record<string, U>>): (token: string | undefined) => U | undefined {
  // Digests have one length, which timingSafeEqual requires, whatever the tokens' lengths.
  const table = Object.entries(tokens).map(([token, user]) => ({ digest: digest(token), user }))
  return (token) => {
    if (token === undefined) return undefined
    const given = digest(token)
    let found: U | undefined
    for (const entry of table) if (timingSafeEqual(entry.digest, given) && found === undefined) found = entry.user
    return found
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}
