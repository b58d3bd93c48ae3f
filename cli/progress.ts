import cliProgress from 'cli-progress'

/** Reports how far a long command has got. */
export interface Progress {
  /** `done` so far, of `total` when known. */
  update(done: number): void
  stop(): void
}

const PLAIN_EVERY_MS = 2_000

/**
 * A bar on a terminal (stderr, so stdout stays the command's output), plain lines every two
 * seconds when stderr is piped, nothing with `quiet`.
 *
 * @example
 * const progress = startProgress('export', total, 'events')
 * progress.update(n); progress.stop()
 */
export function startProgress(label: string, total: number | undefined, unit: string, options: { quiet?: boolean } = {}): Progress {
  if (options.quiet) return { update: () => undefined, stop: () => undefined }
  const stream = process.stderr
  if (stream.isTTY && total !== undefined && total > 0) {
    const bar = new cliProgress.SingleBar(
      { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | eta {eta_formatted}`, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    )
    const started = Date.now()
    bar.start(total, 0, { rate: 0 })
    return {
      update: (done) => bar.update(Math.min(done, total), { rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) }),
      stop: () => bar.stop(),
    }
  }
  const started = Date.now()
  let last = started
  let latest = 0
  let printed = -1
  const line = (done: number) => {
    printed = done
    const seconds = (Date.now() - started) / 1000
    stream.write(`${label}: ${done}${total !== undefined ? `/${total}` : ''} ${unit} (${Math.round(done / Math.max(seconds, 0.001))}/s)\n`)
  }
  return {
    update(done) {
      latest = done
      const now = Date.now()
      if (now - last >= PLAIN_EVERY_MS) {
        last = now
        line(done)
      }
    },
    stop: () => {
      if (printed !== latest) line(latest)
    },
  }
}
