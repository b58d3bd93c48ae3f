import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ActorClass } from '../../node.js'
import { CliError } from '../errors.js'

/** True for a class built on Actor (duck-typed: the user's module may load its own copy of the package). */
export function isActorClass(value: unknown): value is ActorClass {
  if (typeof value !== 'function') return false
  const proto = (value as { prototype?: { Load?: unknown; Fire?: unknown } }).prototype
  return typeof proto?.Load === 'function' && typeof proto.Fire === 'function' && typeof (value as { events?: unknown }).events === 'object'
}

/**
 * Imports the user's module and returns its actor classes by export name: the one named
 * after `#` (`./src/User.ts#User`), or every exported actor class. A `.ts` module needs the
 * CLI to run under tsx (as it does from sources); plain node imports `.js`.
 *
 * @example
 * const { User } = await loadActorClasses('./dist/User.js#User')
 */
export async function loadActorClasses(spec: string): Promise<Map<string, ActorClass>> {
  const hash = spec.lastIndexOf('#')
  const path = hash >= 0 ? spec.slice(0, hash) : spec
  const name = hash >= 0 ? spec.slice(hash + 1) : undefined
  const file = resolve(path)
  if (!existsSync(file)) throw new CliError('MODULE_NOT_FOUND', `no module at "${file}"`)
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (err) {
    const hint = /\.[cm]?ts$/.test(file) && /Unknown file extension/.test(String(err)) ? ' (a .ts module needs tsx: NODE_OPTIONS=--import=tsx)' : ''
    throw new CliError('MODULE_LOAD_FAILED', `cannot import "${file}": ${(err as Error).message}${hint}`, { cause: err })
  }
  const classes = new Map<string, ActorClass>()
  for (const [exported, value] of Object.entries(module)) {
    if (isActorClass(value)) classes.set(exported === 'default' ? value.name : exported, value)
  }
  if (name !== undefined) {
    const one = classes.get(name)
    if (!one) throw new CliError('ACTOR_CLASS_NOT_FOUND', `"${file}" exports no actor class "${name}" (it exports: ${[...classes.keys()].join(', ') || 'none'})`)
    return new Map([[name, one]])
  }
  if (classes.size === 0) throw new CliError('ACTOR_CLASS_NOT_FOUND', `"${file}" exports no actor class`)
  return classes
}
