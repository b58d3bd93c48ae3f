import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/**
 * The inspector page's folder: `inspector/` at the package root, found from this file both in
 * the sources (cli/inspect/) and in the build (dist/cli/inspect/).
 */
export function inspectorDir(): string {
  for (const up of ['../../inspector', '../../../inspector']) {
    const dir = fileURLToPath(new URL(up, import.meta.url))
    if (existsSync(join(dir, 'index.html'))) return dir
  }
  throw new Error('the inspector page (inspector/index.html) is missing from the package')
}

/** A file of `root` by its URL path, or undefined (never a file outside `root`). */
export async function staticFile(root: string, urlPath: string): Promise<{ body: Buffer; type: string } | undefined> {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return undefined // malformed percent-encoding names no file
  }
  const relative = normalize(decoded).replace(/^([/\\])+/, '')
  if (relative.startsWith('..') || relative.includes(`${sep}..${sep}`)) return undefined
  const type = TYPES[extname(relative)]
  if (!type) return undefined
  try {
    return { body: await readFile(join(root, relative)), type }
  } catch {
    return undefined
  }
}
