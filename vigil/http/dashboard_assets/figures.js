// CPU and memory figures, from GET /api/v1/resources, read every few seconds while the page
// is visible and never while it is hidden. A daemon without that route (404) is not asked
// again: its rows show "—".

import { API } from "./api.js";

const EVERY = 2000;

export class Figures {
  constructor(store) {
    this.store = store;
    this.absent = false;
    this.timer = 0;
    this.busy = false;
    document.addEventListener("visibilitychange", () => this.schedule(0));
  }

  start() {
    this.schedule(0);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.absent || document.hidden) return;
    this.timer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    this.timer = 0;
    if (this.busy) return;
    this.busy = true;
    try {
      const response = await fetch(`${API}/resources`, { cache: "no-store" });
      if (response.status === 404) {
        this.absent = true;
        return;
      }
      if (response.ok) {
        const answer = await response.json();
        if (answer && answer.processes) this.store.setFigures(answer.processes);
      }
    } catch {
      // the daemon is away: the event stream's banner says so; try again later
    } finally {
      this.busy = false;
    }
    this.schedule(EVERY);
  }
}
