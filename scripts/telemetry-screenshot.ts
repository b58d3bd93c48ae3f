// Shoots the timeline page `npm run telemetry` writes (docs/images/telemetry-trace.png), in
// Debian's Chromium through playwright-core: `npx tsx scripts/telemetry-screenshot.ts`.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'

const page = resolve(process.argv[2] ?? '.data/telemetry/trace.html')
const out = resolve(process.argv[3] ?? 'docs/images/telemetry-trace.png')
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' })
try {
  const tab = await browser.newPage({ viewport: { width: 1200, height: 400 }, deviceScaleFactor: 1 })
  await tab.goto(pathToFileURL(page).href)
  await tab.screenshot({ path: out, fullPage: true })
  console.log(`wrote ${out}`)
} finally {
  await browser.close()
}
