import { h } from '../dom.js'

/** The trace URL of an event that carries a W3C traceparent, from the template; else undefined. */
export function traceLink(event, template) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(event.meta?.traceparent ?? '')
  if (!template || !m) return undefined
  return template.replaceAll('{traceId}', m[1]).replaceAll('{spanId}', m[2])
}

/**
 * An event's causation chain: its causes (root first), the event, and what it caused, indented
 * by generation. Each names its stream (a click opens it) and links to its trace when it can.
 */
export function chainPanel(chain, template, openStream) {
  const item = (event, depth, role) => {
    const link = traceLink(event, template)
    const li = h(
      'li',
      { class: `chain-${role}`, 'data-id': event.id, 'data-depth': depth },
      h('a', { href: '#', onclick: (ev) => (ev.preventDefault(), openStream(event.streamId)) }, event.streamId),
      ` v${event.version} `,
      h('b', {}, event.name),
      h('span', { class: 'muted mono' }, ` #${event.position}`),
      link ? h('a', { class: 'trace-link', href: link, target: '_blank', rel: 'noopener' }, 'trace ↗') : null,
    )
    // Through the CSSOM: the page's content security policy refuses style attributes.
    li.style.paddingLeft = `${depth * 18 + 4}px`
    return li
  }
  const causes = chain.causes.map((e, i) => item(e, i, 'cause'))
  const at = chain.causes.length
  return h(
    'div',
    { class: 'chain', id: 'chain' },
    h('h3', {}, 'Causation'),
    chain.missingCause ? h('p', { class: 'muted' }, `caused by ${chain.missingCause}, which is not in this log`) : null,
    h('ul', {}, causes, item(chain.event, at, 'self'), chain.effects.map(({ event, depth }) => item(event, at + depth, 'effect'))),
    chain.causes.length === 0 && chain.effects.length === 0 ? h('p', { class: 'muted' }, 'nothing in the log caused this event, and it caused nothing') : null,
  )
}
