// Type-checks every ```ts block of README.md and docs/*.md against the package's sources, so
// that the docs' code cannot drift from the code (part of `npm run typecheck`).
//
// Each block becomes one module in .data/doc-snippets/ and tsc checks them all with the repo's
// compiler options; `omniscient-actors` imports resolve to the sources (the package's
// `omniscient-source` condition), relative imports as from the Markdown file's own folder.
// Errors are reported at the Markdown line. Conventions for blocks that are not whole files:
//   ```ts continued        the block continues the previous ```ts block of the same file (one module)
//   <!-- ts-prelude        an HTML comment right above a block (not shown on GitHub): lines that are
//   declare const ...      put before the block, such as imports and the values it assumes
//   -->
// Usage: tsx scripts/doc-snippets.ts [file.md ...]   (default: README.md docs/*.md)
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = join(root, '.data', 'doc-snippets')

/** Where a generated line comes from: a Markdown file and line, or a hidden prelude above one. */
interface Origin { doc: string; line: number; prelude: boolean }
interface Module { name: string; lines: string[]; origins: Origin[] }

const docs = process.argv.length > 2
  ? process.argv.slice(2).map((f) => resolve(f))
  : [join(root, 'README.md'), ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join(root, 'docs', f))]

const modules: Module[] = []
const problems: string[] = []
for (const doc of docs) modules.push(...extract(doc))
if (problems.length > 0) fail(problems)

rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
for (const m of modules) writeFileSync(join(outDir, m.name), m.lines.join('\n') + '\n')
writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'], exclude: [] }, null, 2))

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const run = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', join(outDir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' })
const output = (run.stdout + run.stderr).trim()
if (run.status !== 0) fail(output.split('\n').map(located))
console.log(`doc snippets: ${modules.length} modules from ${docs.length} files type-check`)

/** The ```ts blocks of one Markdown file, as modules (a `continued` block joins the one before). */
function extract(doc: string): Module[] {
  const name = relative(root, doc)
  const lines = readFileSync(doc, 'utf8').split('\n')
  const found: Module[] = []
  let prelude: { lines: string[]; at: number } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '<!-- ts-prelude') {
      const end = lines.findIndex((l, j) => j > i && l.trim() === '-->')
      if (end < 0) { problems.push(`${name}:${i + 1}: a ts-prelude comment without its closing -->`); break }
      prelude = { lines: lines.slice(i + 1, end), at: i + 2 }
      i = end
      continue
    }
    const fence = /^```(\S*)\s*(.*)$/.exec(line)
    if (fence === null) {
      if (prelude !== undefined && line.trim() !== '') { problems.push(`${name}:${prelude.at - 1}: a ts-prelude comment not right above a \`\`\`ts block`); prelude = undefined }
      continue
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l))
    if (end < 0) { problems.push(`${name}:${i + 1}: a code block that never closes`); break }
    if (fence[1] === 'ts' || fence[1] === 'typescript') {
      const flags = fence[2]!.split(/\s+/).filter((f) => f !== '')
      const unknown = flags.filter((f) => f !== 'continued')
      if (unknown.length > 0) problems.push(`${name}:${i + 1}: unknown flag ${unknown.join(' ')} on a \`\`\`ts block (known: continued)`)
      let m: Module
      if (flags.includes('continued')) {
        const last = found.at(-1)
        if (last === undefined) { problems.push(`${name}:${i + 1}: a continued block with no \`\`\`ts block before it`); i = end; continue }
        m = last
      } else {
        m = { name: `${name.replace(/[^A-Za-z0-9]+/g, '_')}_${i + 1}.ts`, lines: [], origins: [] }
        found.push(m)
      }
      for (const [k, l] of (prelude?.lines ?? []).entries()) add(m, l, { doc: name, line: prelude!.at + k, prelude: true })
      for (let j = i + 1; j < end; j++) add(m, lines[j]!, { doc: name, line: j + 1, prelude: false })
    } else if (prelude !== undefined) {
      problems.push(`${name}:${prelude.at - 1}: a ts-prelude comment above a \`\`\`${fence[1]} block`)
    }
    prelude = undefined
    i = end
  }
  // A block with no import or export would be a script sharing globals with the others.
  for (const m of found) m.lines.push('export {}')
  return found

  function add(m: Module, text: string, origin: Origin): void {
    // Relative imports are written as from the Markdown file's folder.
    const fixed = text.replace(/(from\s+|import\s*\(\s*)(['"])(\.\.?\/[^'"]+)\2/g, (_all, pre: string, q: string, spec: string) => {
      let to = relative(outDir, resolve(dirname(doc), spec)).replaceAll('\\', '/')
      if (!to.startsWith('.')) to = `./${to}`
      return `${pre}${q}${to}${q}`
    })
    m.lines.push(fixed)
    m.origins.push(origin)
  }
}

/** Maps a tsc line `.data/doc-snippets/x.ts(3,5): error ...` to `docs/x.md:12:5: error ...`. */
function located(line: string): string {
  const at = /^(.*?)\((\d+),(\d+)\): (.*)$/.exec(line)
  if (at === null) return line
  const m = modules.find((mod) => resolve(root, at[1]!) === join(outDir, mod.name))
  const origin = m?.origins[Number(at[2]) - 1]
  if (origin === undefined) return line
  return `${origin.doc}:${origin.line}:${at[3]}: ${origin.prelude ? '(in the ts-prelude) ' : ''}${at[4]}`
}

function fail(lines: string[]): never {
  console.error(`doc snippets: the \`\`\`ts blocks of README.md and docs/*.md must type-check against the package (scripts/doc-snippets.ts):\n${lines.join('\n')}`)
  process.exit(1)
}
