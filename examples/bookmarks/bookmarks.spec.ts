import { expect } from 'chai'
import { createContainer, MemoryStore } from 'omniscient-actors'
import { Bookmark } from './Bookmark.js'
import { Bookmarks } from './Bookmarks.js'
import { InfoFetcher } from './InfoFetcher.js'

describe('the bookmarks example', () => {
  it('should fetch the info of a bookmark once and show it in the read model, by URL and by host', async () => {
    const container = createContainer({ store: new MemoryStore() })
    const fetcher = await new InfoFetcher(container).start()
    const bookmarks = await new Bookmarks(container).start()
    const url = 'https://example.com/a/page'
    const saved = await (await container.actors.get(Bookmark, Bookmark.idOf(url))).Save(url)
    expect(await (await container.actors.get(Bookmark, Bookmark.idOf(url))).Save(url)).to.equal(undefined)
    await fetcher.waitFor(saved!)
    await bookmarks.waitFor(await container.store.headPosition())
    expect(await bookmarks.get(url)).to.deep.equal({ url, host: 'example.com', title: 'a page - example.com', faviconUrl: 'https://example.com/favicon.ico' })
    expect((await bookmarks.find('host', { eq: 'example.com' })).docs.map((d) => d.key)).to.deep.equal([url])
    await fetcher.stop()
    await bookmarks.stop()
    await container.close()
  })
})
