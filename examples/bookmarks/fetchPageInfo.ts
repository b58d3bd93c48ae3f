/**
 * STAND-IN for a real page fetcher: this machine has no network, so the title and favicon are
 * made up from the URL itself, after a short pause that plays the part of the request. A real
 * service would `fetch(url)` here and read `<title>` and `<link rel="icon">` from the page; the
 * rest of the example stays the same (a failing fetch is retried by the projection).
 */
export async function fetchPageInfo(url: string): Promise<{ title: string; faviconUrl: string }> {
  await new Promise((resolve) => setTimeout(resolve, 20))
  const { hostname, pathname, origin } = new URL(url)
  const words = pathname.split('/').filter(Boolean).join(' ')
  return { title: words ? `${words} - ${hostname}` : hostname, faviconUrl: `${origin}/favicon.ico` }
}
