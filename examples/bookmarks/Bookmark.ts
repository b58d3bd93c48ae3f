import { Actor, type Container } from 'omniscient-actors'
import { BookmarkEvents } from './BookmarkEvents.js'

/** One bookmarked URL; its stream id is `bookmark:<url>`. Bookmarking it again does nothing. */
export class Bookmark extends Actor<typeof BookmarkEvents, { saved: boolean }> {
  static events = BookmarkEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.saved = false
  }

  static idOf(url: string): string {
    return `bookmark:${url}`
  }

  async Save(url: string) {
    if (this._state.saved) return undefined
    return this.Fire('bookmarked', { url })
  }

  bookmarked() {
    this._state.saved = true
  }
}
