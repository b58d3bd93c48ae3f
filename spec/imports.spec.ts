// The house's import rules (design.md, "Dependencies flow one way"), checked from the sources:
// no import circle, not even through `import type`, and the boundaries between the rooms.
import { expect } from 'chai'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crossings, importCircles, importGraph, type Boundary } from './support/importGraph.js'
import { tempDir } from './support/tmp.js'

const root = fileURLToPath(new URL('..', import.meta.url))
// The package's own code: what dist/ is built from.
const PACKAGE = ['index.ts', 'node.ts', 'lib', 'actors', 'cli']

const ENGINE = /^lib\/store\/(sqlite|postgres|rethinkdb)\//
const engineOf = (file: string) => /^lib\/store\/([^/]+)\//.exec(file)?.[1]

const BOUNDARIES: Boundary[] = [
  // The core runs in browsers and on every store: engines are reached only through their entry points.
  { rule: 'the core knows no engine', from: /^(index\.ts|lib\/)/, to: ENGINE, allows: (from, to) => engineOf(from) === engineOf(to) },
  { rule: 'the core knows no actor class', from: /^lib\//, to: /^actors\// },
  { rule: 'the library knows no tool', from: /^(index\.ts|node\.ts|lib\/|actors\/)/, to: /^cli\// },
  // lib/store/*.ts is the contract: StorageAdapter, Subscription, StoreCatalog, LeaseState.
  { rule: 'the contract knows no adapter', from: /^lib\/store\/[^/]+\.ts$/, to: /^lib\/store\/[^/]+\// },
  {
    rule: 'an adapter knows no other adapter',
    from: /^lib\/store\/(memory|sqlite|postgres|rethinkdb)\//,
    to: /^lib\/store\/(memory|sqlite|postgres|rethinkdb)\//,
    allows: (from, to) => engineOf(from) === engineOf(to),
  },
  { rule: 'the shared kit knows no adapter', from: /^lib\/store\/kit\//, to: /^lib\/store\/(memory|sqlite|postgres|rethinkdb)\// },
  { rule: 'the read side knows no engine', from: /^lib\/read\//, to: ENGINE },
  { rule: 'sync knows no engine', from: /^lib\/sync\//, to: ENGINE },
  { rule: 'the actors know no engine', from: /^actors\//, to: ENGINE },
  { rule: 'the sync client knows no sync server', from: /^lib\/sync\/(?!server\/)/, to: /^lib\/sync\/server\// },
  { rule: 'the inspector knows no sync server', from: /^(cli\/inspect\/|inspector\/)/, to: /^lib\/sync\/server\// },
]

describe('imports of the package', function () {
  const graph = importGraph(root, PACKAGE)

  it('should read the whole package', function () {
    expect(graph.size).to.be.greaterThan(100)
    expect(graph.get('lib/store/memory/MemoryStore.ts')).to.include('lib/store/StorageAdapter.ts')
  })

  it('should have no import circle, not even through types', function () {
    expect(importCircles(graph).map((c) => c.join(' <-> '))).to.deep.equal([])
  })

  it("should keep design.md's boundaries", function () {
    expect(crossings(graph, BOUNDARIES)).to.deep.equal([])
  })
})

describe('the import check', function () {
  let dir: string
  let remove: () => void
  beforeEach(() => ({ dir, remove } = tempDir('imports-')))
  afterEach(() => remove())

  function write(files: Record<string, string>): void {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
  }

  it('should find a circle made only of type imports and re-exports', function () {
    write({
      'lib/a.ts': "import type { B } from './b.js'\nexport interface A { b: B }\n",
      'lib/b.ts': "export type { C as B } from './sub/c.js'\n",
      'lib/sub/c.ts': "export type C = import('../a.js').A\n",
      'lib/d.ts': "import { x } from 'zod'\nimport type { A } from './a.js'\n",
    })
    const graph = importGraph(dir, ['lib'])
    expect(importCircles(graph)).to.deep.equal([['lib/a.ts', 'lib/b.ts', 'lib/sub/c.ts']])
  })

  it('should name each import that crosses a boundary', function () {
    write({
      'lib/read/Model.ts': "import { PgStore } from '../store/postgres/PgStore.js'\n",
      'lib/store/postgres/PgStore.ts': "import './schema.js'\nexport class PgStore {}\n",
      'lib/store/postgres/schema.ts': '',
    })
    expect(crossings(importGraph(dir, ['lib']), BOUNDARIES)).to.deep.equal([
      'the core knows no engine: lib/read/Model.ts -> lib/store/postgres/PgStore.ts',
      'the read side knows no engine: lib/read/Model.ts -> lib/store/postgres/PgStore.ts',
    ])
  })

  it('should refuse an import of a file that does not exist', function () {
    write({ 'lib/a.ts': "import './gone.js'\n" })
    expect(() => importGraph(dir, ['lib'])).to.throw('lib/a.ts imports ./gone.js')
  })
})
