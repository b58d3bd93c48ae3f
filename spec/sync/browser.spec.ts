import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { build } from 'esbuild'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createContainer } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { waitUntil } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { startSyncServer, type SyncServerHarness } from './syncServer.js'

const CHROMIUM = '/usr/bin/chromium'
const root = fileURLToPath(new URL('../../', import.meta.url))

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'spec/sync/browser/page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    // The repo's TypeScript sources, as its specs use them; `browser` picks the core without SQLite.
    conditions: ['omniscient-source'],
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

async function staticServer(script: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/page.js')) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' })
      res.end(script)
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' })
      res.end('<!doctype html><meta charset="utf-8"><title>device</title><body style="font: 16px monospace">loading</body><script type="module" src="/page.js"></script>')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe('RemoteStore in headless Chromium', function () {
  this.timeout(60_000)
  let browser: Browser
  let sync: SyncServerHarness
  let pageServer: { server: Server; origin: string }
  before(async function () {
    this.timeout(60_000)
    pageServer = await staticServer(await bundle())
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      // Playwright gives the browser a fresh temporary profile (user data dir) of its own.
      headless: true,
    })
  })
  after(async () => {
    await browser?.close()
    pageServer?.server.closeAllConnections()
    pageServer?.server.close()
  })

  let pageProblems: string[] = []
  const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { app: { total(): number; status(): { connected: boolean; queued: number; lastPosition: number } } }).app && {
    total: (globalThis as unknown as { app: { total(): number } }).app.total(),
    ...(globalThis as unknown as { app: { status(): { connected: boolean; queued: number; lastPosition: number } } }).app.status(),
  })

  const order = (page: Page) => page.evaluate(() => (globalThis as unknown as { app: { order(): string[] } }).app.order())

  async function until(page: Page, check: (s: { total: number; connected: boolean; queued: number; lastPosition: number }) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000
    for (;;) {
      const s = await state(page).catch(() => undefined)
      if (s && check(s)) return
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last state ${JSON.stringify(s)}; page errors: ${pageProblems.join(' / ')}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  it('should show a Node Fire on the page, store a page Fire, and show several offline Fires at once, across a reload, then land each once', async () => {
    sync = await startSyncServer({ server: { allowOrigin: pageServer.origin } })
    const node = await new Tally('tally', createContainer({ store: sync.container.store })).Load()
    const context = await browser.newContext()
    const page = await context.newPage()
    const problems: string[] = (pageProblems = [])
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
    try {
      await page.goto(`${pageServer.origin}/?sync=${encodeURIComponent(sync.url)}`)
      await until(page, (s) => s.connected, 'the page to connect')

      await node.Fire('counted', { by: 'node', n: 0 })
      await until(page, (s) => s.total === 1, "the Node process's Fire on the page")

      await page.evaluate(() => (globalThis as unknown as { app: { fire(n: number): void } }).app.fire(1))
      await waitUntil(() => node._state.total === 2, 10_000, "the page's Fire in Node")

      // The server goes away; the page fires three times; all three show at once, in order, on
      // top of the last known server state, and wait in IndexedDB.
      await sync.stop()
      await page.evaluate(() => {
        const app = (globalThis as unknown as { app: { fire(n: number): void } }).app
        for (const n of [2, 3, 4]) app.fire(n)
      })
      await until(page, (s) => s.total === 5 && s.queued === 3 && !s.connected, 'the offline Fires, predicted and queued')
      expect(await order(page)).to.deep.equal(['node#0', 'page#1', 'page#2', 'page#3', 'page#4'])
      await page.screenshot({ path: join(tmpdir(), 'omniscient-sync-offline.png') })

      // A reload while offline: the page loads from its copy and shows its queue on top again.
      await page.reload()
      await until(page, (s) => s.total === 5 && s.queued === 3 && s.lastPosition === 2, 'the reloaded page, from its IndexedDB copy and queue')
      expect(await order(page)).to.deep.equal(['node#0', 'page#1', 'page#2', 'page#3', 'page#4'])
      await page.screenshot({ path: join(tmpdir(), 'omniscient-sync-reloaded.png') })

      const server = await startSyncServer({ file: sync.file, port: sync.port, server: { allowOrigin: pageServer.origin } })
      try {
        await until(page, (s) => s.total === 5 && s.queued === 0 && s.connected, 'the queued Fires to land')
        await waitUntil(() => node._state.total === 5, 10_000, 'the landed Fires in Node')
        const stored = await collect(server.container.store.readStream('tally'))
        expect(stored.map((e) => e.id).slice(2), 'each stored once, in the order fired').to.deep.equal(['page-event-2', 'page-event-3', 'page-event-4'])
        expect(node._state.order).to.deep.equal(['node#0', 'page#1', 'page#2', 'page#3', 'page#4'])
        expect(await order(page)).to.deep.equal(node._state.order)
        await page.screenshot({ path: join(tmpdir(), 'omniscient-sync-online.png') })
      } finally {
        await server.stop()
      }
    } finally {
      await context.close()
      await node.Stop()
      await sync.dispose()
    }
  })
})
