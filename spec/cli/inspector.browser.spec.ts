import { expect } from 'chai'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { createContainer, SqliteStore, type NewEvent } from 'omniscient-actors'
import { createInspector } from '../../cli/inspect/server.js'
import { waitUntil } from '../support/processes.js'
import { tempDir } from '../support/tmp.js'
import { withoutCatalog } from '../support/withoutCatalog.js'
import { Cart } from './fixtures/Cart.js'
import { repoRoot, startCli } from './runCli.js'

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
// The README's pictures are taken again with UPDATE_SCREENSHOTS=1 (npm run screenshots);
// otherwise they go to the temporary folder, so a test run leaves the work tree as it was.
const screenshotsToDocs = process.env['UPDATE_SCREENSHOTS'] === '1'

let n = 0
function event(name: string, data?: unknown): NewEvent {
  n++
  return { id: `insp-${process.pid}-${n}`, name, data, schemaVersion: 1, at: Date.UTC(2026, 10, 28, 9, 0, n), meta: { actorType: 'Cart' } }
}

const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip

describeWithBrowser('omniscient inspect, in headless Chromium', function () {
  this.timeout(90_000)
  let tmp: ReturnType<typeof tempDir>
  let file: string
  let server: ReturnType<typeof startCli>
  let context: BrowserContext
  let page: Page

  before(async () => {
    tmp = tempDir('omniscient-inspect-')
    file = join(tmp.dir, 'shop.db')
    const store = new SqliteStore({ file })
    await store.append('cart-1', [event('item_added', { sku: 'apple', qty: 2 }), event('item_added', { sku: 'pear', qty: 1 }), event('item_removed', { sku: 'apple' }), event('checked_out')], { expectedVersion: 0 })
    for (let i = 2; i <= 6; i++) await store.append(`cart-${i}`, [event('item_added', { sku: 'kiwi', qty: i })], { expectedVersion: 0 })
    await store.append('order-7', [event('placed', { total: 12 })], { expectedVersion: 0 })
    await store.acquireLease('one/Stock/warehouse', 'host-a:4242', 3_600_000, Date.now())
    await store.saveCheckpoint('projection/orders-by-day', 5)
    await store.close()

    server = startCli(['inspect', `sqlite:${file}`, '--actors', join('spec', 'cli', 'fixtures', 'Cart.ts'), '--port', '0'])
    await waitUntil(() => /inspector on http/.test(server.output()), 30_000, 'the inspector to listen')
    const url = /inspector on (\S+)/.exec(server.output())![1]!
    context = await chromium.launchPersistentContext(join(tmp.dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 760 },
    })
    page = context.pages()[0] ?? (await context.newPage())
    await page.goto(url)
    await page.waitForSelector('body[data-ready="true"]')
  })

  /** Waits until the element shows that text. */
  const shows = (selector: string, text: string | RegExp) => page.locator(selector).filter({ hasText: text }).waitFor()
  const shot = (name: string) => join(screenshotsToDocs ? join(repoRoot, 'docs', 'images') : tmp.dir, name)

  after(async () => {
    await context?.close()
    server?.kill('SIGINT')
    tmp?.remove()
  })

  it('should list and search streams', async () => {
    await page.waitForSelector('#stream-list li[data-stream="order-7"]')
    expect(await page.locator('#stream-list li').count()).to.equal(7)
    await page.fill('#search', 'cart-')
    await page.locator('#stream-list li').nth(6).waitFor({ state: 'detached' })
    await page.locator('#stream-list li[data-stream="order-7"]').waitFor({ state: 'detached' })
    expect(await page.locator('#stream-list li').count()).to.equal(6)
    expect(await page.locator('#store').textContent()).to.contain('shop.db')
  })

  it('should open a stream, scrub to a version, and show the state and the change there', async () => {
    await page.click('#stream-list li[data-stream="cart-1"]')
    await page.waitForSelector('#events-table tbody tr[data-version="4"]')
    // At the latest version first, with the class guessed from the events' actor type.
    await shows('#state', '"done": true')
    expect(await page.locator('#actor-select').inputValue()).to.equal('Cart')
    await page.locator('#scrub').fill('2')
    await shows('#version-label', /^version 2 of 4$/)
    await shows('#diff', 'pear')
    expect(JSON.parse((await page.locator('#state').textContent())!)).to.deep.equal({ items: { apple: 2, pear: 1 }, done: false })
    expect(await page.locator('#diff li').allTextContents()).to.deep.equal(['+ items.pear: 1'])
    await page.click('#step-forward')
    await shows('#version-label', /^version 3 of 4$/)
    await shows('#diff', 'apple')
    expect(await page.locator('#diff li').allTextContents()).to.deep.equal(['- items.apple: 2'])
    expect(JSON.parse((await page.locator('#state').textContent())!)).to.deep.equal({ items: { pear: 1 }, done: false })
    await page.screenshot({ path: shot('inspector-stream.png') })
  })

  it('should show an event fired from another process as it arrives', async () => {
    await page.click('#step-forward') // back at the latest version: the view follows new events
    await shows('#version-label', /^version 4 of 4$/)
    const container = createContainer({ store: new SqliteStore({ file }) })
    const cart = await new Cart('cart-1', container).Load()
    await cart.Fire('item_added', { sku: 'fig', qty: 3 })
    await container.close()
    await page.waitForSelector('#events-table tbody tr[data-version="5"]')
    await shows('#version-label', /^version 5 of 5$/)
    await shows('#state', 'fig')
    expect(await page.locator('#diff li').allTextContents()).to.deep.equal(['+ items.fig: 3'])
    expect(await page.locator('#live-count').textContent()).to.equal('1')
    await page.screenshot({ path: shot('inspector-live-event.png') })
    await page.click('#tabs button[data-tab="live"]')
    expect(await page.locator('#live-list li').first().textContent()).to.match(/^#\d+ cart-1 v5 item_added .* \{"sku":"fig","qty":3\}$/)
    await page.screenshot({ path: shot('inspector-live.png') })
  })

  it('should show the leases and the positions of the log readers', async () => {
    await page.click('#tabs button[data-tab="leases"]')
    await page.waitForSelector('#leases-table')
    const leaseCells = await page.locator('#leases-table tbody tr td').allTextContents()
    expect(leaseCells).to.include.members(['one/Stock/warehouse', 'host-a:4242', '1'])
    // Worded as `omniscient leases` words it (cli/format.ts leaseStanding).
    expect(leaseCells.at(-1)).to.match(/^held, expires in \d+\.\ds$/)
    await page.screenshot({ path: shot('inspector-leases.png') })
    await page.click('#tabs button[data-tab="positions"]')
    await page.waitForSelector('#positions-table')
    const cells = await page.locator('#positions-table tbody tr td').allTextContents()
    expect(cells.slice(0, 4)).to.deep.equal(['projection/orders-by-day', 'checkpoint', '5', '6'])
    await page.screenshot({ path: shot('inspector-positions.png') })
  })

  it('should say when the store cannot list streams, and turn the Leases tab off when it cannot list leases', async () => {
    expect(await page.locator('#streams-scan').isVisible()).to.equal(false)
    expect(await page.locator('#tabs button[data-tab="leases"]').isDisabled()).to.equal(false)
    const store = new SqliteStore({ file })
    const bare = createInspector({ store: withoutCatalog(store), storeName: 'bare' })
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve))
    const other = await context.newPage()
    try {
      await other.goto(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`)
      await other.waitForSelector('body[data-ready="true"]')
      await other.waitForSelector('#stream-list li[data-stream="order-7"]')
      expect(await other.locator('#streams-scan').isVisible()).to.equal(true)
      const leasesTab = other.locator('#tabs button[data-tab="leases"]')
      expect(await leasesTab.isDisabled()).to.equal(true)
      expect(await leasesTab.getAttribute('title')).to.equal('This store cannot list its leases.')
    } finally {
      await other.close()
      bare.closeAllConnections()
      await new Promise((resolve) => bare.close(resolve))
      await store.close()
    }
  })

  it('should keep up with a burst of live events, keeping the newest 500 in the Live tab', async () => {
    const store = new SqliteStore({ file })
    const version = await store.streamVersion('cart-1')
    const burst = Array.from({ length: 600 }, (_, i) => event('item_added', { sku: `burst-${i}`, qty: 1 }))
    await store.append('cart-1', burst, { expectedVersion: version })
    await store.close()
    const last = version + burst.length
    await shows('#live-count', String(1 + burst.length))
    await page.click('#tabs button[data-tab="live"]')
    expect(await page.locator('#live-list li').count()).to.equal(500)
    expect(await page.locator('#live-list li').first().textContent()).to.contain('burst-599')
    // The open stream (followed at its end) catches up to the last event, however fast they came.
    await page.click('#tabs button[data-tab="streams"]')
    await shows('#version-label', new RegExp(`^version ${last} of ${last}$`))
    await shows('#state', 'burst-599')
    await page.screenshot({ path: shot('inspector-burst.png') })
  })
})
