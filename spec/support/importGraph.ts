import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import ts from 'typescript'

/** File -> the files it imports, every path relative to the root with `/` separators. */
export type ImportGraph = ReadonlyMap<string, ReadonlySet<string>>

/**
 * The imports between the TypeScript files under `tops` (folders or files of `root`), type-only
 * ones included: `import type`, `export ... from`, `import('...')`. Read with the compiler's
 * own scanner (`ts.preProcessFile`), which sees every form without type-checking, so the whole
 * package takes well under a second. Only relative specifiers are followed: a package name
 * (`pg`, `zod`) is outside the graph.
 */
export function importGraph(root: string, tops: readonly string[]): ImportGraph {
  const files = tops.flatMap((top) => sourceFiles(root, top))
  const graph = new Map<string, Set<string>>()
  for (const file of files) {
    const targets = new Set<string>()
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue
      const target = resolveSource(root, file, fileName)
      if (target === undefined) throw new Error(`${file} imports ${fileName}, which is no source file`)
      targets.add(target)
    }
    graph.set(file, targets)
  }
  return graph
}

function sourceFiles(root: string, top: string): string[] {
  const path = join(root, top)
  if (!statSync(path).isDirectory()) return [top]
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => `${top}/${name.split(sep).join('/')}`)
    .sort()
}

// `./x.js` names the source `./x.ts` (ESM with TypeScript's `.js` specifiers).
function resolveSource(root: string, from: string, specifier: string): string | undefined {
  const base = join(dirname(join(root, from)), specifier)
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')]
  const found = candidates.find((c) => c.endsWith('.ts') && existsSync(c) && statSync(c).isFile())
  return found === undefined ? undefined : relative(root, found).split(sep).join('/')
}

/**
 * The import circles of a graph: its strongly connected components of more than one file, and
 * files that import themselves (Tarjan's algorithm). Each circle's files are sorted.
 */
export function importCircles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const circles: string[][] = []
  let next = 0
  const visit = (file: string): void => {
    index.set(file, next)
    low.set(file, next++)
    stack.push(file)
    onStack.add(file)
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target)
        low.set(file, Math.min(low.get(file)!, low.get(target)!))
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!))
      }
    }
    if (low.get(file) !== index.get(file)) return
    const component: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      component.push(member)
    } while (member !== file)
    if (component.length > 1 || graph.get(file)?.has(file)) circles.push(component.sort())
  }
  for (const file of graph.keys()) if (!index.has(file)) visit(file)
  return circles
}

/** A boundary: no file matching `from` may import a file matching `to`. */
export interface Boundary {
  readonly rule: string
  readonly from: RegExp
  readonly to: RegExp
  /** When given, the edge is allowed if this returns true (e.g. an engine importing itself). */
  readonly allows?: (from: string, to: string) => boolean
}

/** Every import that crosses a boundary, as `rule: from -> to`. */
export function crossings(graph: ImportGraph, boundaries: readonly Boundary[]): string[] {
  const found: string[] = []
  for (const [from, targets] of graph) {
    for (const to of targets) {
      for (const b of boundaries) {
        if (b.from.test(from) && b.to.test(to) && !b.allows?.(from, to)) found.push(`${b.rule}: ${from} -> ${to}`)
      }
    }
  }
  return found
}
