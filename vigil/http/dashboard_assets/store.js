// The processes as the dashboard knows them: the last documents read from the API, updated
// in place by events and figures. Changes are gathered and handed to the views once per
// animation frame, so a burst of events costs one round of DOM work.

import { namespecOf } from "./util.js";

const HISTORY = 30; // samples kept for a sparkline

export class Store {
  constructor() {
    this.processes = new Map(); // namespec -> record
    this.skew = 0; // the daemon's clock minus ours, in seconds
    this.listeners = [];
    this.dirty = new Set();
    this.structural = false;
    this.frame = 0;
  }

  subscribe(listener) {
    this.listeners.push(listener);
  }

  /** Our estimate of the daemon's "now", for uptimes. */
  now() {
    return Date.now() / 1000 + this.skew;
  }

  /** Replace everything with a fresh list of process documents. */
  load(documents) {
    const next = new Map();
    let changed = documents.length !== this.processes.size;
    for (const doc of documents) {
      const old = this.processes.get(doc.namespec);
      if (!old) changed = true;
      const record = old || { history: [], figures: null };
      record.doc = doc;
      if (doc.resources) this.takeFigures(record, doc.resources);
      next.set(doc.namespec, record);
    }
    if (documents.length) this.skew = documents[0].taken_at - Date.now() / 1000;
    this.processes = next;
    this.structural = this.structural || changed;
    for (const key of next.keys()) this.dirty.add(key);
    this.schedule();
  }

  /** One fresh document (after an event, the details the event does not carry). */
  replace(doc) {
    const record = this.processes.get(doc.namespec);
    if (!record || doc.taken_at < record.doc.taken_at) return; // an event told us newer news
    record.doc = doc;
    this.mark(doc.namespec);
  }

  /** A PROCESS_STATE_* event; false when it names a process we do not know (re-read). */
  applyState(event) {
    const namespec = namespecOf(event.group, event.process);
    const record = this.processes.get(namespec);
    if (!record) return false;
    const doc = record.doc;
    if (event.at < doc.taken_at) return true; // older than what we read
    doc.state = event.to;
    doc.pid = event.pid;
    if (event.to === "STARTING") {
      doc.started_at = event.at;
      doc.exit_status = null;
    } else if (["STOPPED", "EXITED", "BACKOFF"].includes(event.to) && event.from !== "STOPPED") {
      doc.stopped_at = event.at;
      doc.pid = null;
    }
    doc.taken_at = event.at;
    this.mark(namespec);
    return true;
  }

  /** Figures of every process ({namespec: {cpu_percent, rss_bytes, ...}}). */
  setFigures(byNamespec) {
    for (const [namespec, figures] of Object.entries(byNamespec)) {
      const record = this.processes.get(namespec);
      if (!record) continue;
      this.takeFigures(record, figures);
      this.mark(namespec);
    }
  }

  takeFigures(record, figures) {
    record.figures = figures;
    const cpu = figures ? figures.cpu_percent : null;
    record.history.push(typeof cpu === "number" ? cpu : null);
    if (record.history.length > HISTORY) record.history.shift();
  }

  mark(namespec) {
    this.dirty.add(namespec);
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Hand the changes over now rather than at the next frame (the first render). */
  flushNow() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.flush();
  }

  flush() {
    this.frame = 0;
    const dirty = this.dirty;
    const structural = this.structural;
    this.dirty = new Set();
    this.structural = false;
    for (const listener of this.listeners) listener(dirty, structural);
  }
}
