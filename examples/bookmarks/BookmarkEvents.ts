import { z } from 'zod'
import { defineEvents } from 'omniscient-actors'

/**
 * tiny-event-sourcing's bookmarking service: a user bookmarks a URL (`bookmarked`, one stream
 * per URL); the info fetcher reacts with the page's title and favicon (`info_fetched`).
 */
export const BookmarkEvents = defineEvents({
  bookmarked: z.object({ url: z.url() }),
  info_fetched: z.object({ url: z.url(), title: z.string(), faviconUrl: z.string() }),
})
