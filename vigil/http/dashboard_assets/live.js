// The one connection to the daemon's event stream. EventSource reconnects by itself after a
// dropped connection and sends Last-Event-ID, so nothing is missed; when it gives up (an
// answer other than 200, e.g. while the daemon restarts) a new one is opened, resuming from
// the last id seen. A `missed` marker or a new epoch (the part of the id before "-", new at
// each daemon start) means events were lost: the views then read everything again.

import { API } from "./api.js";

const RETRY_FIRST = 1000;
const RETRY_MAX = 10000;

export class Live {
  constructor({ onEvent, onResync, onConnected, onLost }) {
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.onConnected = onConnected;
    this.onLost = onLost;
    this.source = null;
    this.lastId = "";
    this.epoch = "";
    this.down = false;
    this.everConnected = false;
    this.retry = RETRY_FIRST;
    this.timer = 0;
  }

  start() {
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    this.timer = 0;
    const query = this.lastId ? `?last_event_id=${encodeURIComponent(this.lastId)}` : "";
    const source = new EventSource(`${API}/events${query}`);
    this.source = source;
    source.onopen = () => this.opened();
    source.onmessage = (message) => this.message(message);
    source.addEventListener("missed", () => this.onResync("missed"));
    source.onerror = () => this.failed(source);
  }

  opened() {
    this.retry = RETRY_FIRST;
    const first = !this.everConnected;
    this.down = false;
    this.everConnected = true;
    this.onConnected(first);
  }

  message(message) {
    this.track(message.lastEventId);
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return; // not one of the daemon's messages
    }
    this.onEvent(event);
  }

  track(id) {
    if (!id) return;
    const epoch = id.split("-")[0];
    const changed = this.epoch && epoch !== this.epoch;
    this.epoch = epoch;
    this.lastId = id;
    if (changed) this.onResync("restart");
  }

  failed(source) {
    if (source !== this.source) return;
    if (!this.down) {
      this.down = true;
      this.onLost();
    }
    if (source.readyState === EventSource.CLOSED && !this.timer) {
      // the browser gave up on this one: try again ourselves, a little later each time
      this.timer = setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, RETRY_MAX);
    }
  }
}
