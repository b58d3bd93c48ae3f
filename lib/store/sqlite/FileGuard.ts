import { statSync, watch, type FSWatcher } from 'node:fs'
import { StorageError } from '../../errors.js'

/**
 * Notices that an open database file was deleted or replaced. SQLite does not: it goes on
 * writing to the deleted file through the descriptor it holds, so every append acknowledged
 * from then on is lost when the store closes. The file is watched (inotify and the like:
 * nothing paid per append) and, where watching is unavailable, `checkSometimes` looks at it at
 * most once a second. Once the path no longer leads to the file opened, `gone` holds the error
 * (STORE_FILE_GONE) every later call is refused with.
 */
export class FileGuard {
  gone: StorageError | undefined
  private readonly opened: { dev: number; ino: number }
  private readonly watcher: FSWatcher | undefined
  private nextCheck = 0

  constructor(
    private readonly path: string,
    private readonly shownAs: string,
  ) {
    this.opened = statSync(path)
    let watcher: FSWatcher | undefined
    try {
      watcher = watch(path, { persistent: false }, () => this.check())
      watcher.on('error', () => watcher?.close())
    } catch {
      watcher = undefined // no file watching here: checkSometimes remains
    }
    this.watcher = watcher
  }

  /** Checks now. */
  check(): void {
    if (this.gone) return
    let now: { dev: number; ino: number } | undefined
    try {
      now = statSync(this.path, { throwIfNoEntry: false })
    } catch {
      return // unreadable for another reason (permissions...): not evidence that it is gone
    }
    if (now && now.dev === this.opened.dev && now.ino === this.opened.ino) return
    this.gone = new StorageError(
      `SQLite database "${this.shownAs}" was deleted or replaced while this store had it open; appends acknowledged since then went to the deleted file and are lost, and this store refuses every call: open the file again`,
      { code: 'STORE_FILE_GONE' },
    )
    this.watcher?.close()
  }

  /** Checks if a second has passed since the last time: cheap enough for every group commit. */
  checkSometimes(): void {
    const now = performance.now()
    if (now < this.nextCheck) return
    this.nextCheck = now + 1_000
    this.check()
  }

  close(): void {
    this.watcher?.close()
  }
}
