import { get } from '../api.js'
import { h, show, time } from '../dom.js'

/** Leases: who leads what, with term and expiry; `standing` is worded by the server, as the CLI words it. */
export async function renderLeases(root) {
  const { leases } = await get('/api/leases')
  if (leases === null) return show(root, h('p', { class: 'muted' }, 'This store cannot list its leases.'))
  show(
    root,
    h('h2', {}, 'Leases'),
    leases.length === 0
      ? h('p', { class: 'muted' }, 'No lease has been taken.')
      : h(
          'table',
          { id: 'leases-table' },
          h('thead', {}, h('tr', {}, ['lease', 'holder', 'term', 'expires (UTC)', 'now'].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            leases.map((l) =>
              h('tr', {}, h('td', { class: 'mono' }, l.name), h('td', {}, l.holder), h('td', {}, l.term), h('td', { class: 'mono' }, time(l.expiresAt)), h('td', {}, l.standing)),
            ),
          ),
        ),
  )
}

/** Readers of the log: checkpoints and registered read models/projections, with lag. */
export async function renderPositions(root) {
  const { head, positions, checkpointsListed } = await get('/api/positions')
  show(
    root,
    h('h2', {}, 'Positions ', h('span', { class: 'muted' }, `head ${head}`)),
    checkpointsListed ? null : h('p', { class: 'muted' }, 'This store cannot list its checkpoints.'),
    positions.length === 0
      ? h('p', { class: 'muted' }, 'No projection, read model or durable listener has saved a position yet.')
      : h(
          'table',
          { id: 'positions-table' },
          h('thead', {}, h('tr', {}, ['name', 'kind', 'position', 'lag', ''].map((t) => h('th', {}, t)))),
          h('tbody', {}, positions.map((p) => h('tr', {}, h('td', { class: 'mono' }, p.name), h('td', {}, p.kind), h('td', {}, p.position), h('td', {}, p.lag), h('td', { class: 'muted' }, p.detail ?? '')))),
        ),
  )
}
