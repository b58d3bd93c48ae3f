import type { EventData, EventEnvelope } from 'omniscient-actors'
import { Projection, type Derived } from 'omniscient-actors/read'
import { BookmarkEvents } from './BookmarkEvents.js'
import { fetchPageInfo } from './fetchPageInfo.js'

type E = typeof BookmarkEvents

/**
 * Reacts to each bookmark by fetching the page's information and appending it to the
 * bookmark's stream. A failed fetch is retried with backoff (the projection shows `stuck`
 * meanwhile); the derived event's id comes from the bookmark's, so a fetch repeated after a
 * crash stores its result once.
 */
export class InfoFetcher extends Projection<E, E> {
  static events = BookmarkEvents
  static derives = BookmarkEvents

  async bookmarked(data: EventData<E, 'bookmarked'>, event: EventEnvelope): Promise<Derived<E>[]> {
    const info = await fetchPageInfo(data.url)
    return [{ streamId: event.streamId, name: 'info_fetched', data: { url: data.url, ...info } }]
  }
}
