import type { EventData } from 'omniscient-actors'
import { ReadModel } from 'omniscient-actors/read'
import { BookmarkEvents } from './BookmarkEvents.js'

type E = typeof BookmarkEvents

/** One document per bookmarked URL. */
export interface BookmarkDoc {
  readonly url: string
  /** Undefined until the info fetcher has answered. */
  readonly title?: string
  readonly faviconUrl?: string
  readonly host: string
}

/** The bookmarks by URL, and by host (an index). */
export class Bookmarks extends ReadModel<E, BookmarkDoc> {
  static events = BookmarkEvents
  static version = 1
  static indexes = { host: (doc: BookmarkDoc) => doc.host }

  bookmarked(data: EventData<E, 'bookmarked'>) {
    this.update(data.url, (doc) => doc ?? { url: data.url, host: new URL(data.url).hostname })
  }

  info_fetched(data: EventData<E, 'info_fetched'>) {
    this.update(data.url, (doc) => ({ host: new URL(data.url).hostname, ...doc, url: data.url, title: data.title, faviconUrl: data.faviconUrl }))
  }
}
