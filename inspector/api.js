// Read-only calls to the inspector's server. The token (when the server needs one) travels
// as a cookie set on the first page load, so URLs here carry none.

/** GET a JSON API path with query parameters; throws with the server's message. */
export async function get(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''))
  const res = await fetch(`${path}${query.size > 0 ? `?${query}` : ''}`)
  const body = await res.json()
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`)
  return body
}

/** Live envelopes from the server (Server-Sent Events); returns a function that stops them. */
export function live(onEvent, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined))
  const source = new EventSource(`/api/live${query.size > 0 ? `?${query}` : ''}`)
  source.addEventListener('envelope', (message) => onEvent(JSON.parse(message.data)))
  return () => source.close()
}
