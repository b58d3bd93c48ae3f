import { get } from '../api.js'
import { h, jsonBlock, show, time } from '../dom.js'
import { chainPanel } from './chain.js'

/**
 * One stream: its events, and (with actor classes) a scrubber that replays the stream with
 * the chosen class up to a version, showing the state there and the change that event made.
 * Each event's causation chain opens below (with trace links when `traceUrl` is set).
 */
export function streamView(root, actors, traceUrl) {
  let streamId
  let events = []
  let version = 0
  let at = 0
  let actor
  let asking = 0

  async function open(id) {
    streamId = id
    const page = await get('/api/events', { stream: id })
    events = page.events
    version = page.version
    at = version
    const guess = events.find((e) => actors.includes(e.meta?.actorType))?.meta.actorType
    actor = guess ?? actor ?? actors[0]
    render()
    await replay()
  }

  function render() {
    const rows = events.map((e) =>
      h(
        'tr',
        { 'data-version': e.version, class: e.version === at ? 'current' : e.version > at ? 'later' : undefined, onclick: () => void scrubTo(e.version) },
        h('td', { class: 'mono' }, e.version),
        h('td', {}, e.name),
        h('td', { class: 'muted mono' }, time(e.at)),
        h('td', { class: 'mono' }, e.data === undefined ? '' : JSON.stringify(e.data)),
        h('td', {}, h('button', { class: 'chain-button', title: 'what caused this event, and what it caused', onclick: (ev) => (ev.stopPropagation(), void showChain(e.id)) }, 'chain')),
      ),
    )
    const replayPanel =
      actors.length === 0
        ? h('p', { class: 'muted' }, 'Start the inspector with --actors <module> to replay this stream with your actor classes.')
        : h(
            'div',
            {},
            h('h3', {}, 'Time travel'),
            h(
              'div',
              { class: 'scrub' },
              h('select', { id: 'actor-select', onchange: (ev) => ((actor = ev.target.value), void replay()) }, actors.map((a) => h('option', { value: a, selected: a === actor }, a))),
              h('button', { id: 'step-back', onclick: () => void scrubTo(Math.max(0, at - 1)) }, '◀'),
              h('input', { id: 'scrub', type: 'range', min: 0, max: version, value: at, oninput: (ev) => void scrubTo(Number(ev.target.value)) }),
              h('button', { id: 'step-forward', onclick: () => void scrubTo(Math.min(version, at + 1)) }, '▶'),
              h('span', { id: 'version-label', class: 'mono' }, `version ${at} of ${version}`),
            ),
            h('div', { class: 'replay' }, h('div', {}, h('h3', {}, 'State'), h('div', { id: 'state-box' })), h('div', {}, h('h3', {}, 'This event changed'), h('div', { id: 'diff-box' }))),
          )
    show(
      root,
      h('h2', {}, streamId, ' ', h('span', { class: 'muted' }, `version ${version}`)),
      replayPanel,
      h('div', { id: 'chain-box' }),
      h('h3', {}, 'Events'),
      events.length < version ? h('p', { class: 'muted' }, `versions 1 to ${events.length} of ${version} `, h('button', { id: 'more-events', onclick: () => void more() }, 'more')) : null,
      h('table', { id: 'events-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'v'), h('th', {}, 'name'), h('th', {}, 'at (UTC)'), h('th', {}, 'data'), h('th', {}, ''))), h('tbody', {}, rows)),
    )
  }

  async function showChain(id) {
    const chain = await get('/api/chain', { id })
    show(root.querySelector('#chain-box'), chainPanel(chain, traceUrl, (streamId) => void open(streamId)))
  }

  async function more() {
    const page = await get('/api/events', { stream: streamId, from: events.length + 1 })
    events.push(...page.events)
    render()
    await replay()
  }

  async function scrubTo(v) {
    at = v
    for (const tr of root.querySelectorAll('#events-table tbody tr')) {
      const rowVersion = Number(tr.dataset.version)
      tr.className = rowVersion === at ? 'current' : rowVersion > at ? 'later' : ''
    }
    const range = root.querySelector('#scrub')
    if (range) range.value = String(at)
    const label = root.querySelector('#version-label')
    if (label) label.textContent = `version ${at} of ${version}`
    await replay()
  }

  async function replay() {
    if (!actor || !streamId) return
    const ask = ++asking
    const result = await get('/api/state', { stream: streamId, actor, at })
    if (ask !== asking) return // a later scrub answered first
    const stateBox = root.querySelector('#state-box')
    const diffBox = root.querySelector('#diff-box')
    show(stateBox, result.error ? h('p', { class: 'error' }, `handler failed at version ${result.error.version}: ${result.error.message}`) : null, jsonBlock(result.state, { id: 'state' }))
    show(
      diffBox,
      result.event ? h('p', { class: 'mono' }, `v${result.event.version} ${result.event.name}`) : h('p', { class: 'muted' }, 'the initial state'),
      h('div', { class: 'diff', id: 'diff' }, h('ul', {}, result.changes.map(changeItem))),
    )
  }

  // Live events may come faster than the server replays the stream: while one render and
  // replay runs, later events only mark it stale, and one more round then shows them all.
  let refreshing = false
  let stale = false
  async function refresh() {
    if (refreshing) return void (stale = true)
    refreshing = true
    try {
      do {
        stale = false
        render()
        await replay()
      } while (stale)
    } finally {
      refreshing = false
    }
  }

  return {
    open,
    /** A live event: append it when it belongs to the open stream (and follow it if at the end). */
    async received(event) {
      if (event.streamId !== streamId || event.version <= version) return
      const following = at === version
      if (events.length === version) events.push(event) // else "more" fetches it in order
      version = event.version
      if (following) at = version
      await refresh()
    },
  }
}

function changeItem(c) {
  const path = c.path.length === 0 ? '(state)' : c.path.join('.')
  const text = c.kind === 'added' ? `+ ${path}: ${JSON.stringify(c.after)}` : c.kind === 'removed' ? `- ${path}: ${JSON.stringify(c.before)}` : `~ ${path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`
  return h('li', { class: c.kind }, h('code', {}, text))
}
