import type { AppState } from './state.js';

/** The page's one state, and who changed it last (a panel does not redraw the input the user is typing in). */
export type Listener = (state: AppState, origin: string) => void;

export class Store {
  private listeners: Listener[] = [];
  constructor(public state: AppState) {}

  subscribe(fn: Listener): void {
    this.listeners.push(fn);
  }

  set(next: AppState, origin: string): void {
    this.state = next;
    for (const fn of this.listeners) fn(next, origin);
  }

  /** The pattern JSON of the head on show. */
  get head() {
    return this.state.heads[this.state.head]!;
  }
}
