import type { ReadModel } from 'omniscient-actors/read'

/**
 * A progress bar on a terminal while a read model is rebuilt or catches up (from its
 * `onProgress`); nothing when the output is not a TTY. Returns the function that removes it.
 */
export function showProgress(model: ReadModel): () => void {
  if (!process.stderr.isTTY) return () => {}
  let drawn = false
  const off = model.onProgress((p) => {
    if (p.state !== 'building' && p.state !== 'catching-up') {
      if (drawn) process.stderr.write('\n')
      drawn = false
      return
    }
    const share = p.head === 0 ? 1 : Math.min(1, p.position / p.head)
    const width = 30
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.')
    const what = p.state === 'building' ? `building v${p.version} beside v${p.activeVersion ?? '-'}` : 'catching up'
    process.stderr.write(`\r${model.name} ${what} [${bar}] ${p.position}/${p.head} ${p.eventsPerSecond} events/s`)
    drawn = true
  })
  return () => {
    off()
    if (drawn) process.stderr.write('\n')
  }
}
