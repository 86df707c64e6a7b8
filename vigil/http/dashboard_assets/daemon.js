// The daemon's identity (its identifier, host, version, pid, state, uptime) in the page's
// header, and its main log in a panel read on demand and again while it is open and events
// arrive (new lines follow events), never on a timer.

import { getJSON, getText } from "./api.js";
import { el, formatDuration, setText } from "./util.js";

const MAIN_LOG_BYTES = 65536;
const REREAD_AFTER = 700;

function meta(name) {
  const node = document.querySelector(`meta[name="${name}"]`);
  return node ? node.content : "";
}

export class DaemonInfo {
  constructor({ facts, name, panel, onOpen, onClose }) {
    this.facts = facts;
    this.name = name;
    this.panel = panel;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.host = meta("vigil-host");
    this.started = Number(meta("vigil-started")) || null;
    this.doc = null;
    this.uptime = null;
    this.timer = 0;
    this.opener = document.querySelector("#open-mainlog");
    this.text = panel.querySelector("#mainlog-text");
    this.opener.addEventListener("click", () => (this.panel.hidden ? this.openLog() : this.closeLog()));
    panel.querySelector("#mainlog-refresh").addEventListener("click", () => this.readLog());
    panel.querySelector("#mainlog-close").addEventListener("click", () => this.closeLog());
  }

  async refresh() {
    try {
      this.doc = await getJSON("daemon");
    } catch {
      return;
    }
    this.render();
  }

  render() {
    const doc = this.doc || {};
    setText(this.name, doc.identification || "vigil");
    document.title = `${doc.identification || "vigil"} · ${this.host || "vigil"}`;
    const facts = [
      ["Host", this.host || "—"],
      ["Version", doc.version ? `${doc.distribution || doc.implementation || "vigil"} ${doc.version}` : "—"],
      ["PID", doc.pid ? String(doc.pid) : "—"],
      ["State", doc.state ? doc.state.toLowerCase() : "—"],
    ];
    const nodes = [];
    for (const [term, value] of facts) nodes.push(el("div", null, el("dt", null, term), el("dd", null, value)));
    this.uptime = el("dd", null, "—");
    nodes.push(el("div", null, el("dt", null, "Up"), this.uptime));
    this.facts.replaceChildren(...nodes);
    this.tick();
  }

  tick() {
    if (this.uptime && this.started) setText(this.uptime, formatDuration(Date.now() / 1000 - this.started));
  }

  /** The daemon restarted: its pid, and the start of its life, are new (the page's shell
   * says when this life began). */
  async restarted() {
    this.refresh();
    try {
      const response = await fetch("./", { cache: "no-store" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const started = page.querySelector('meta[name="vigil-started"]');
      this.started = started ? Number(started.content) || null : null;
    } catch {
      this.started = null;
    }
    this.tick();
  }

  openLog() {
    this.panel.hidden = false;
    this.opener.setAttribute("aria-expanded", "true");
    this.onOpen();
    this.readLog();
    this.text.focus();
  }

  closeLog() {
    this.panel.hidden = true;
    this.opener.setAttribute("aria-expanded", "false");
    this.onClose();
    this.opener.focus();
  }

  async readLog() {
    try {
      const text = await getText(`log?offset=-${MAIN_LOG_BYTES}`);
      const newline = text.indexOf("\n");
      // a byte offset starts wherever it falls: drop the partial first line
      this.text.textContent = text.length >= MAIN_LOG_BYTES && newline >= 0 ? text.slice(newline + 1) : text;
    } catch (error) {
      this.text.textContent = `The main log could not be read: ${error.message}`;
    }
    this.text.scrollTop = this.text.scrollHeight;
  }

  /** Something happened: the main log has a new line, read it soon if it is shown. */
  changed() {
    if (this.panel.hidden || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.readLog();
    }, REREAD_AFTER);
  }
}
