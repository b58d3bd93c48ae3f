// What a user of the registry gets: the packed tarball installed into an empty project, used
// from plain `node`, from the project's own `tsc`, and from a browser bundle run in Chromium.
// The project starts without the engines' drivers (`pg`, `rethinkdb-ts`: optional peers), as a
// SQLite or browser user has it; the type check installs them, as a PostgreSQL user would.
// Slow (a pack and an install): `npm run test:package`, run by .ci/run, not by `npm test`.
import { execFile, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'

const run = promisify(execFile)
const repo = fileURLToPath(new URL('../..', import.meta.url))
const fixtures = fileURLToPath(new URL('./consumer', import.meta.url))
const ours = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  peerDependencies: Record<string, string>
}
// Debian's chromium; CHROMIUM_PATH for another. Playwright's own downloads are not used.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

async function sh(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  return (await shBoth(cmd, args, cwd)).stdout
}

async function shBoth(cmd: string, args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`, { cause: err })
  }
}

describe('the packed package, installed into an empty project', function () {
  this.timeout(300_000)
  let project: string
  let tarball: string
  let installOutput: string

  before(async () => {
    project = mkdtempSync(join(tmpdir(), 'omniscient-consumer-'))
    await sh('npm', ['pack', '--silent', '--pack-destination', project], repo)
    tarball = readdirSync(project).find((f) => f.endsWith('.tgz'))!
    cpSync(fixtures, project, { recursive: true })
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: { 'omniscient-actors': `file:./${tarball}`, zod: ours.dependencies.zod, chai: ours.devDependencies.chai },
        devDependencies: { typescript: ours.devDependencies.typescript },
        // better-sqlite3's install script would compile it from source (no prebuilt binary can
        // be downloaded here): npm is told not to run it. Every other package's scripts are
        // left to npm's own policy, so that a warning about them shows in the output.
        allowScripts: { 'better-sqlite3': false },
      }),
    )
    const install = await shBoth('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project)
    installOutput = install.stdout + install.stderr
    // The repo's own build of the same version stands in for the binary a user's install
    // downloads; another version is compiled.
    const theirs = join(project, 'node_modules/better-sqlite3')
    const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
    const built = join(repo, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')
    if (existsSync(built) && version(theirs) === version(join(repo, 'node_modules/better-sqlite3'))) {
      cpSync(join(repo, 'node_modules/better-sqlite3/build'), join(theirs, 'build'), { recursive: true })
    } else {
      await sh('npm', ['rebuild', 'better-sqlite3'], project)
    }
  })

  after(() => {
    if (project && !process.env.KEEP_CONSUMER) rmSync(project, { recursive: true, force: true })
  })

  it('should ship compiled JavaScript, declarations and the sources their maps point to; no specs or benches', async () => {
    const files = (await sh('tar', ['-tzf', tarball], project)).trim().split('\n').map((f) => f.replace(/^package\//, ''))
    const source = (f: string) => (/^(index|node)\.ts$|^(lib|actors|cli)\/.*\.ts$/.test(f) && !f.endsWith('.spec.ts')) || /^inspector\/.*\.(html|js|css)$/.test(f)
    const outside = files.filter((f) => !f.startsWith('dist/') && !source(f) && !['package.json', 'README.md', 'LICENSE'].includes(f))
    expect(outside, 'files that are neither built nor sources').to.deep.equal([])
    expect(files.filter((f) => f.startsWith('dist/') && f.endsWith('.ts') && !f.endsWith('.d.ts')), 'TypeScript in dist/').to.deep.equal([])
    const map = JSON.parse(readFileSync(join(project, 'node_modules/omniscient-actors/dist/lib/ids.d.ts.map'), 'utf8')) as { sources: string[] }
    expect(files, 'the source a declaration map points to').to.include(join('dist/lib', map.sources[0]!))
    for (const entry of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/lib/testing/index.js', 'dist/lib/store/sqlite/index.d.ts']) {
      expect(files).to.include(entry)
    }
    expect(files).to.include('dist/index.js.map')
    expect(files).to.include('dist/index.d.ts.map')
  })

  it("should install without the engines' drivers, and with no warning about the package's scripts", () => {
    expect(existsSync(join(project, 'node_modules/pg')), 'pg installed').to.equal(false)
    expect(existsSync(join(project, 'node_modules/rethinkdb-ts')), 'rethinkdb-ts installed').to.equal(false)
    const about = installOutput.split('\n').filter((l) => /warn/i.test(l) && l.includes('omniscient-actors'))
    expect(about, `npm install said:\n${installOutput}`).to.deep.equal([])
  })

  it('should run a program with plain node (the node entry, SqliteStore on a file, Given)', async () => {
    const out = JSON.parse(await sh(process.execPath, ['program.mjs', project], project)) as Record<string, unknown>
    expect(out).to.deep.equal({
      resolved: `file://${project}/node_modules/omniscient-actors/dist/node.js`,
      sameSqliteStore: true,
      state: { items: { apple: 2, pear: 1 } },
      version: 2,
      scenarioFired: 1,
    })
  })

  it('should install the omniscient command, which reads the store the program wrote and serves the inspector page', async () => {
    const bin = join(project, 'node_modules/.bin/omniscient')
    const url = `sqlite:${join(project, 'shop.db')}`
    expect(JSON.parse(await sh(bin, ['streams', url, '--json'], project))).to.include({ streamId: 'cart-42', version: 2 })
    const lines = (await sh(bin, ['export', url, '--quiet'], project)).trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { data: unknown }).data)).to.deep.equal([{ sku: 'apple', qty: 2 }, { sku: 'pear', qty: 1 }])
    const inspector = spawn(bin, ['inspect', url, '--port', '0'], { cwd: project, env: { ...process.env, NODE_OPTIONS: '' } })
    try {
      const address = await new Promise<string>((resolve, reject) => {
        inspector.stdout.setEncoding('utf8').on('data', (text: string) => /(http\S+)/.test(text) && resolve(/(http\S+)/.exec(text)![1]!))
        inspector.on('exit', (code) => reject(new Error(`omniscient inspect exited ${code}`)))
      })
      const page = await fetch(`${address}static/app.js`)
      expect(page.status).to.equal(200)
    } finally {
      inspector.kill('SIGINT')
    }
  })

  it('should refuse an engine entry point whose driver is not installed with one line that says what to install', async () => {
    const attempt = (entry: string) =>
      `import(${JSON.stringify(entry)}).then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`
    for (const [entry, driver] of [['omniscient-actors/postgres', 'pg'], ['omniscient-actors/rethinkdb', 'rethinkdb-ts']] as const) {
      const out = JSON.parse(await sh(process.execPath, ['--input-type=module', '-e', attempt(entry)], project)) as { code?: string; message?: string }
      expect(out).to.deep.equal({ code: 'DRIVER_MISSING', message: `${entry} needs the ${driver} package, which is not installed: npm install ${driver}` })
    }
    const cli = spawn(join(project, 'node_modules/.bin/omniscient'), ['streams', 'postgres://127.0.0.1:1/app'], { cwd: project, env: { ...process.env, NODE_OPTIONS: '' } })
    let stderr = ''
    cli.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    const code = await new Promise<number | null>((resolve) => cli.on('close', resolve))
    expect(code).to.equal(1)
    expect(stderr).to.equal('omniscient: omniscient-actors/postgres needs the pg package, which is not installed: npm install pg [DRIVER_MISSING]\n')
  })

  it("should type-check with the consumer's own tsc once the drivers are installed (strict, skipLibCheck false, no other @types added by hand)", async () => {
    const drivers = ['pg', '@types/pg', 'rethinkdb-ts'].map((name) => `${name}@${ours.peerDependencies[name]!}`)
    await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...drivers], project)
    await sh(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], project)
    await sh(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.browser.json'], project)
  })

  it('should bundle for the browser without Node-only modules and run a LiveActor in Chromium', async () => {
    const bundled = await build({
      entryPoints: [join(project, 'browser.ts')],
      absWorkingDir: project,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: join(project, 'bundle.js'),
      metafile: true,
      logLevel: 'silent',
    })
    const inputs = Object.keys(bundled.metafile.inputs)
    expect(inputs.filter((f) => /better-sqlite3|node_modules\/pg\/|rethinkdb-ts|omniscient-actors\/dist\/node\.js/.test(f))).to.deep.equal([])
    expect(inputs.some((f) => f.includes('omniscient-actors/dist/index.js'))).to.equal(true)

    const server = await serve(project)
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (err) => errors.push(err.message))
      const address = server.address() as { port: number }
      await page.goto(`http://127.0.0.1:${address.port}/index.html`)
      await page.waitForFunction(() => 'result' in globalThis, undefined, { timeout: 20_000 })
      const result = await page.evaluate(() => (globalThis as unknown as { result: unknown }).result)
      await page.screenshot({ path: process.env.CONSUMER_SCREENSHOT ?? join(project, 'page.png') })
      expect(errors).to.deep.equal([])
      expect(result).to.deep.include({ left: { total: 5, last: 'right' }, right: { total: 5, last: 'right' }, following: true })
      expect((result as { eventId: string }).eventId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/)
    } finally {
      await browser.close()
      server.close()
    }
  })
})

function serve(dir: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' }
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '') || 'index.html'
    const file = join(dir, name)
    if (!/^[\w.-]+$/.test(name) || !existsSync(file)) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

