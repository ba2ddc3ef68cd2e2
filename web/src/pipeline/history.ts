/**
 * Undo/redo for the designer: a bounded stack of graphs (100 steps). Consecutive edits with
 * the same `key` (typing in one field of one node: `${nodeId}:${field}`) make one step, so
 * undo goes back a field at a time, not a keystroke at a time.
 */

export const HISTORY_LIMIT = 100;

export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  private lastKey: string | undefined;

  constructor(
    private current: T,
    private readonly limit = HISTORY_LIMIT,
  ) {}

  get present(): T {
    return this.current;
  }
  get canUndo(): boolean {
    return this.past.length > 0;
  }
  get canRedo(): boolean {
    return this.future.length > 0;
  }
  get size(): number {
    return this.past.length;
  }

  /** Records `next` as the new state. With the same `key` as the previous push, replaces
   *  the present instead of adding a step. */
  push(next: T, key?: string): T {
    if (next === this.current) return next;
    if (key !== undefined && key === this.lastKey && this.past.length) {
      this.current = next;
      this.future = [];
      return next;
    }
    this.past.push(this.current);
    if (this.past.length > this.limit) this.past.splice(0, this.past.length - this.limit);
    this.current = next;
    this.future = [];
    this.lastKey = key;
    return next;
  }

  /** Replaces the present without a step (a re-parse that changed nothing the user did). */
  replace(next: T): T {
    this.current = next;
    return next;
  }

  undo(): T {
    const previous = this.past.pop();
    if (previous === undefined) return this.current;
    this.future.push(this.current);
    this.current = previous;
    this.lastKey = undefined;
    return previous;
  }

  redo(): T {
    const next = this.future.pop();
    if (next === undefined) return this.current;
    this.past.push(this.current);
    this.current = next;
    this.lastKey = undefined;
    return next;
  }

  /** Starts over from `state` (a job loaded). */
  reset(state: T): T {
    this.past = [];
    this.future = [];
    this.lastKey = undefined;
    this.current = state;
    return state;
  }
}
