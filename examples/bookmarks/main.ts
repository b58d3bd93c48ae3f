// tiny-event-sourcing's bookmark service: bookmarks, an info fetcher that reacts and appends,
// and a read model of bookmarks by URL.
//   npm run bookmarks -- add https://example.com/some/page   bookmarks it; prints it once fetched
//   npm run bookmarks -- list                                every bookmark
//   npm run bookmarks -- host example.com                    the bookmarks of one host (index)
// The page fetcher is a local stand-in (fetchPageInfo.ts): there is no network here.
import { parseArgs } from 'node:util'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Bookmark } from './Bookmark.js'
import { Bookmarks } from './Bookmarks.js'
import { InfoFetcher } from './InfoFetcher.js'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { db: { type: 'string', default: './.data/bookmarks.db' } } })
const container = createContainer({ store: new SqliteStore({ file: values.db }) })
const fetcher = await new InfoFetcher(container).start()
const bookmarks = await new Bookmarks(container).start()

const [command, arg] = positionals
if (command === 'add' && arg) {
  const saved = await (await container.actors.get(Bookmark, Bookmark.idOf(arg))).Save(arg)
  if (saved) await fetcher.waitFor(saved) // the info is stored...
  await bookmarks.waitFor(await container.store.headPosition()) // ...and in the read model
  console.log(JSON.stringify(await bookmarks.get(arg)))
} else if (command === 'list') {
  await bookmarks.waitFor(await container.store.headPosition())
  for (let page = await bookmarks.list({ limit: 100 }); ; page = await bookmarks.list({ limit: 100, after: page.next })) {
    for (const { doc } of page.docs) console.log(`${doc.url}\t${doc.title ?? '(fetching)'}`)
    if (page.next === undefined) break
  }
} else if (command === 'host' && arg) {
  await bookmarks.waitFor(await container.store.headPosition())
  for (const { doc } of (await bookmarks.find('host', { eq: arg })).docs) console.log(`${doc.url}\t${doc.title ?? '(fetching)'}`)
} else {
  console.log('usage: npm run bookmarks -- add <url> | list | host <hostname>')
}
await fetcher.stop()
await bookmarks.stop()
await container.close()
