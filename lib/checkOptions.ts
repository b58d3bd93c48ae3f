import { InvalidOptionsError } from './errors.js'

/**
 * Refuses options that are not an object, that lack a `required` one, or that hold a name
 * `owner` does not take: a misspelt option must fail loudly rather than be ignored. `undefined`
 * passes when nothing is required (every option defaulted).
 */
export function checkOptions(owner: string, options: unknown, known: readonly string[], required: readonly string[] = []): void {
  if (options === undefined && required.length === 0) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const got = options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options
    throw new InvalidOptionsError(owner, [], known, `options must be an object${needs(required)}, got ${got}`)
  }
  const unknown = Object.keys(options).filter((key) => !known.includes(key))
  const missing = required.filter((key) => (options as Record<string, unknown>)[key] === undefined)
  if (unknown.length === 0 && missing.length === 0) return
  const parts = [
    ...(unknown.length > 0 ? [`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`] : []),
    ...(missing.length > 0 ? [`no ${missing.map((k) => `"${k}"`).join(', ')}, which it needs`] : []),
  ]
  throw new InvalidOptionsError(owner, unknown, known, parts.join(' and '))
}

function needs(required: readonly string[]): string {
  return required.length === 0 ? '' : ` with ${required.map((k) => `"${k}"`).join(', ')}`
}
