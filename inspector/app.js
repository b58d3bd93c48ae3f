import { get, live } from './api.js'
import { h, time } from './dom.js'
import { streamList } from './views/streams.js'
import { streamView } from './views/stream.js'
import { renderLeases, renderPositions } from './views/tables.js'

const $ = (id) => document.getElementById(id)

const info = await get('/api/info')
$('store').textContent = info.store
const setHead = (head) => ($('head').textContent = `head ${head}`)
setHead(info.head)

// What the store cannot do: say so where it shows, rather than fail when asked.
if (!info.can.listStreams) $('streams-scan').hidden = false
if (!info.can.listLeases) {
  const leasesTab = document.querySelector('#tabs button[data-tab="leases"]')
  leasesTab.disabled = true
  leasesTab.title = 'This store cannot list its leases.'
}

const stream = streamView($('stream-view'), info.actors, info.traceUrl)
const streams = streamList({ list: $('stream-list'), search: $('search'), more: $('more-streams'), onPick: (id) => void stream.open(id) })
await streams.refresh()

const tabs = { leases: () => renderLeases($('leases-view')), positions: () => renderPositions($('positions-view')) }
for (const button of document.querySelectorAll('#tabs button')) {
  button.addEventListener('click', () => {
    for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b === button)
    for (const s of document.querySelectorAll('.tab')) s.classList.toggle('active', s.id === `tab-${button.dataset.tab}`)
    void tabs[button.dataset.tab]?.()
  })
}

const LIVE_ITEMS = 500

// One live feed for the whole page: the Live tab, the stream list and the open stream.
let received = 0
live(
  (event) => {
    received++
    $('live-count').textContent = String(received)
    setHead(event.position)
    const item = h('li', { class: 'fresh mono', 'data-position': event.position }, `#${event.position} ${event.streamId} v${event.version} ${event.name} ${time(event.at)} ${event.data === undefined ? '' : JSON.stringify(event.data)}`)
    const list = $('live-list')
    list.prepend(item)
    // A busy store sends thousands of events a second: the tab keeps the newest ones only.
    while (list.childElementCount > LIVE_ITEMS) list.lastElementChild.remove()
    streams.touched(event)
    void stream.received(event)
  },
  { from: info.head + 1 },
)
document.body.dataset.ready = 'true'
