import { expect } from 'chai'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { MemoryStore, type NewEvent } from 'omniscient-actors'
import { createInspector } from '../../cli/inspect/server.js'
import { repoRoot } from './runCli.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

function event(id: string, meta: NewEvent['meta'] = {}): NewEvent {
  return { id, name: `${id}_done`, data: { n: 1 }, schemaVersion: 1, at: Date.UTC(2026, 11, 1), meta }
}

describeWithBrowser("the inspector's causation chain, in headless Chromium", function () {
  this.timeout(60_000)
  let store: MemoryStore
  let server: Server
  let browser: Browser
  before(async () => {
    store = new MemoryStore()
    await store.append('order-1', [event('order', { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` })], { expectedVersion: 0 })
    await store.append('shipment-1', [event('shipment', { causationId: 'order', correlationId: 'order', traceparent: `00-${TRACE}-b7ad6b7169203331-01` })], { expectedVersion: 0 })
    await store.append('invoice-1', [event('invoice', { causationId: 'shipment', correlationId: 'order' })], { expectedVersion: 0 })
    server = createInspector({ store, storeName: 'memory:', traceUrl: 'http://jaeger.local/trace/{traceId}?uiFind={spanId}' })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
  })
  after(async () => {
    await browser?.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it("should show an event's causes and effects from the log, each linking to its trace when it has one", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 600 } })
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    await page.waitForSelector('body[data-ready="true"]')
    await page.click('#stream-list li[data-stream="shipment-1"]')
    await page.click('#events-table tbody tr[data-version="1"] .chain-button')
    await page.waitForSelector('#chain li.chain-self')
    const items = await page.locator('#chain li').evaluateAll((lis: HTMLElement[]) => lis.map((li) => [li.className, li.dataset['id']]))
    expect(items).to.deep.equal([
      ['chain-cause', 'order'],
      ['chain-self', 'shipment'],
      ['chain-effect', 'invoice'],
    ])
    const links = await page.locator('#chain a.trace-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    expect(links).to.deep.equal([`http://jaeger.local/trace/${TRACE}?uiFind=00f067aa0ba902b7`, `http://jaeger.local/trace/${TRACE}?uiFind=b7ad6b7169203331`])
    if (process.env['UPDATE_SCREENSHOTS'] === '1') await page.screenshot({ path: join(repoRoot, 'docs', 'images', 'inspector-chain.png') })
    // A cause's stream opens from the chain.
    await page.click('#chain li.chain-cause a:not(.trace-link)')
    await page.locator('h2').filter({ hasText: 'order-1' }).waitFor()
    await page.close()
  })
})
