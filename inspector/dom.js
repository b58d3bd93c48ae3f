// A few helpers to build DOM nodes without a framework.

/** h('td', { class: 'x', onclick }, 'text', child) */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child))
  return node
}

/** Replaces a node's children. */
export function show(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null))
}

/** `2026-11-28 08:32:05.123` (UTC), as the CLI prints times. */
export function time(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** Pretty JSON in a <pre>. */
export function jsonBlock(value, attributes = {}) {
  return h('pre', attributes, value === undefined ? '(nothing)' : JSON.stringify(value, null, 2))
}
