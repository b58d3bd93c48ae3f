interface Waiting<A, O> {
  readonly item: A
  readonly resolve: (outcome: O) => void
  readonly reject: (err: unknown) => void
}

/**
 * Group commit: items submitted while a group is being written wait and go together in the
 * next one. At most one item per stream goes in a group (a stream's items keep their order:
 * a later one waits for the next group), and at most `maxItems`.
 *
 * @example
 * const queue = new GroupQueue((items) => writeAll(items))
 * const outcome = await queue.submit({ streamId: 's', ... })
 */
export class GroupQueue<A extends { readonly streamId: string }, O> {
  private waiting: Array<Waiting<A, O>> = []
  private running = false

  constructor(
    private readonly write: (items: A[]) => Promise<O[]>,
    private readonly maxItems = 500,
  ) {}

  submit(item: A): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject })
      if (!this.running) void this.drain()
    })
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (this.waiting.length > 0) {
        // Let the writers whose appends just resolved send their next ones into this group.
        await new Promise((resolve) => setImmediate(resolve))
        const group: Array<Waiting<A, O>> = []
        const later: Array<Waiting<A, O>> = []
        const streams = new Set<string>()
        for (const w of this.waiting) {
          if (group.length >= this.maxItems || streams.has(w.item.streamId)) later.push(w)
          else {
            streams.add(w.item.streamId)
            group.push(w)
          }
        }
        this.waiting = later
        try {
          const outcomes = await this.write(group.map((w) => w.item))
          group.forEach((w, i) => w.resolve(outcomes[i]!))
        } catch (err) {
          for (const w of group) w.reject(err)
        }
      }
    } finally {
      this.running = false
    }
  }
}
