import { get } from '../api.js'
import { h, show } from '../dom.js'

const PAGE = 100

/** The stream list: search as you type, page with "more", pick one. */
export function streamList({ list, search, more, onPick }) {
  let contains = ''
  let last
  let selected
  let typing

  async function load(reset) {
    if (reset) last = undefined
    const page = await get('/api/streams', { contains, after: last, limit: PAGE })
    const items = page.map((s) =>
      h('li', { 'data-stream': s.streamId, class: s.streamId === selected ? 'selected' : undefined, onclick: () => pick(s.streamId) }, h('span', {}, s.streamId), h('span', { class: 'muted' }, `v${s.version}`)),
    )
    if (reset) show(list, items)
    else list.append(...items)
    last = page.at(-1)?.streamId
    more.hidden = page.length < PAGE
  }

  function pick(streamId) {
    selected = streamId
    for (const li of list.children) li.classList.toggle('selected', li.dataset.stream === streamId)
    onPick(streamId)
  }

  search.addEventListener('input', () => {
    clearTimeout(typing)
    typing = setTimeout(() => {
      contains = search.value.trim()
      void load(true)
    }, 150)
  })
  more.addEventListener('click', () => void load(false))

  return {
    refresh: () => load(true),
    /** A live event: bump its stream's version in the list, or add it when it matches. */
    touched(event) {
      const li = [...list.children].find((node) => node.dataset.stream === event.streamId)
      if (li) li.lastChild.textContent = `v${event.version}`
      else if (event.streamId.includes(contains) && more.hidden) void load(true)
    },
  }
}
