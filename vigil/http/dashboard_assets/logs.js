// The log viewer: the live output of one process or several (interleaved, each line with its
// process's name), on stdout or stderr. Lines arrive through one EventSource on the log
// stream; they are put on screen once per animation frame, and only the newest KEEP of them
// are kept, so a process that floods its output cannot make the page grow or freeze.

import { API, pathOf } from "./api.js";
import { el } from "./util.js";

export const KEEP = 2000;
const BACKLOG_ONE = 200;
const BACKLOG_MANY = 20;
const RETRY = 2000;

export class LogViewer {
  constructor(panel, { onOpen, onClose }) {
    this.panel = panel;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.box = panel.querySelector("#log-lines");
    this.title = panel.querySelector("#logs-title");
    this.status = panel.querySelector("#log-status");
    this.matches = panel.querySelector("#log-matches");
    this.pauseButton = panel.querySelector("#log-pause");
    this.searchBox = panel.querySelector("#log-search");
    this.fileLink = panel.querySelector("#log-file");
    this.targets = [];
    this.channel = "stdout";
    this.source = null;
    this.lines = []; // {process, text, note}: what is on screen, oldest first
    this.pending = [];
    this.skipped = 0;
    this.paused = false;
    this.following = true;
    this.term = "";
    this.frame = 0;
    this.timer = 0;
    this.bind();
  }

  bind() {
    for (const tab of this.panel.querySelectorAll('[role="tab"]')) {
      tab.addEventListener("click", () => this.setChannel(tab.dataset.channel));
      tab.addEventListener("keydown", (event) => {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        const other = this.panel.querySelector(`[role="tab"]:not([data-channel="${tab.dataset.channel}"])`);
        other.focus();
        this.setChannel(other.dataset.channel);
      });
    }
    this.pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    this.panel.querySelector("#log-newest").addEventListener("click", () => this.jumpToNewest());
    this.panel.querySelector("#log-download").addEventListener("click", () => this.download());
    this.panel.querySelector("#log-close").addEventListener("click", () => this.close());
    this.searchBox.addEventListener("input", () => this.search(this.searchBox.value));
    this.searchBox.addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.nextMatch();
    });
    this.box.addEventListener("scroll", () => {
      const atBottom = this.box.scrollHeight - this.box.scrollTop - this.box.clientHeight < 8;
      if (!this.paused) this.following = atBottom;
    });
  }

  /** Follow these processes (namespecs of one group, or of several). */
  open(namespecs) {
    this.targets = namespecs.slice();
    this.panel.hidden = false;
    this.title.textContent = namespecs.length === 1 ? `Logs of ${namespecs[0]}` : `Logs of ${namespecs.length} processes`;
    this.onOpen();
    this.connect();
    this.panel.querySelector(`[role="tab"][aria-selected="true"]`).focus();
  }

  close() {
    this.disconnect();
    this.panel.hidden = true;
    this.onClose();
  }

  setChannel(channel) {
    if (channel === this.channel) return;
    this.channel = channel;
    for (const tab of this.panel.querySelectorAll('[role="tab"]')) {
      const on = tab.dataset.channel === channel;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    this.connect();
  }

  /** The stream to read, and which of its processes to keep (null: all of them). */
  streamFor() {
    if (this.targets.length === 1) return [this.targets[0], null];
    const groups = new Set(this.targets.map((ns) => (ns.includes(":") ? ns.split(":")[0] : ns)));
    const keep = new Set(this.targets);
    if (groups.size === 1 && this.targets.every((ns) => ns.includes(":"))) return [`${[...groups][0]}:*`, keep];
    return ["all", keep];
  }

  connect(backlog) {
    this.disconnect();
    this.lines = [];
    this.pending = [];
    this.skipped = 0;
    this.box.replaceChildren();
    this.following = true;
    this.renderStatus();
    this.open_(backlog ?? (this.targets.length === 1 ? BACKLOG_ONE : BACKLOG_MANY));
    const single = this.targets.length === 1;
    this.fileLink.hidden = !single;
    if (single) {
      this.fileLink.href = `${API}/processes/${pathOf(this.targets[0])}/log/${this.channel}?offset=0`;
      this.fileLink.setAttribute("download", `${this.targets[0].replace(/[:/]/g, "_")}.${this.channel}.log`);
    }
  }

  open_(backlog) {
    const [namespec, keep] = this.streamFor();
    this.keep = keep;
    const source = new EventSource(`${API}/processes/${pathOf(namespec)}/log/${this.channel}/stream?lines=${backlog}`);
    this.source = source;
    source.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (!this.keep || this.keep.has(data.process)) this.push({ process: data.process, text: data.line });
    };
    const note = (text) => (message) => {
      const data = JSON.parse(message.data);
      if (!this.keep || this.keep.has(data.process)) this.push({ process: data.process, text: text(data), note: true });
    };
    source.addEventListener("dropped", note((d) => `… ${d.bytes} bytes left out here (the file has them)`));
    source.addEventListener("truncated", note(() => "— the log was cleared —"));
    source.addEventListener("ended", note(() => "— the process was removed —"));
    source.onerror = () => {
      // Reconnecting by itself would replay the backlog: reopen without one, after a pause.
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.status.textContent = "connection lost, reconnecting…";
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.push({ process: "", text: "— reconnected: lines written meanwhile may be missing —", note: true });
        this.open_(0);
      }, RETRY);
    };
    source.onopen = () => this.renderStatus();
  }

  disconnect() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.source) this.source.close();
    this.source = null;
  }

  push(line) {
    this.pending.push(line);
    if (this.pending.length > KEEP) {
      this.skipped += this.pending.length - KEEP;
      this.pending.splice(0, this.pending.length - KEEP);
    }
    if (!this.frame && !this.paused) this.frame = requestAnimationFrame(() => this.flush());
    else if (this.paused) this.renderStatus();
  }

  flush() {
    this.frame = 0;
    if (this.paused || !this.pending.length) return;
    const incoming = this.pending;
    this.pending = [];
    const fragment = document.createDocumentFragment();
    for (const line of incoming) fragment.append(this.render(line));
    this.box.append(fragment);
    this.lines.push(...incoming);
    const extra = this.lines.length - KEEP;
    if (extra > 0) {
      this.lines.splice(0, extra);
      for (let i = 0; i < extra; i += 1) this.box.firstChild.remove();
    }
    if (this.term) this.countMatches();
    this.renderStatus();
    if (this.following) this.box.scrollTop = this.box.scrollHeight;
  }

  /** One line as nodes: the process's name when several are followed, the text with every
   * match of the search marked. Text nodes only. */
  render(line) {
    const node = el("div", { className: line.note ? "line note" : "line" });
    if (this.targets.length > 1 && line.process) node.append(el("span", { className: "src" }, line.process));
    const text = line.text;
    if (!this.term) {
      node.append(text);
      return node;
    }
    const lower = text.toLowerCase();
    let at = 0;
    for (let found = lower.indexOf(this.term); found !== -1; found = lower.indexOf(this.term, at)) {
      if (found > at) node.append(text.slice(at, found));
      node.append(el("mark", null, text.slice(found, found + this.term.length)));
      at = found + this.term.length;
    }
    if (at < text.length) node.append(text.slice(at));
    return node;
  }

  search(term) {
    this.term = term.toLowerCase();
    const fragment = document.createDocumentFragment();
    for (const line of this.lines) fragment.append(this.render(line));
    this.box.replaceChildren(fragment);
    this.countMatches();
    const first = this.box.querySelector("mark");
    if (first && this.term) {
      this.following = false; // keep the match in view while lines still arrive
      this.current = first;
      first.classList.add("current");
      first.scrollIntoView({ block: "center" });
    } else if (this.following) {
      this.box.scrollTop = this.box.scrollHeight;
    }
  }

  nextMatch() {
    const marks = [...this.box.querySelectorAll("mark")];
    if (!marks.length) return;
    const index = marks.indexOf(this.current);
    this.current = marks[(index + 1) % marks.length];
    for (const mark of marks) mark.classList.toggle("current", mark === this.current);
    this.current.scrollIntoView({ block: "center" });
  }

  countMatches() {
    const count = this.term ? this.box.querySelectorAll("mark").length : 0;
    this.matches.textContent = this.term ? `${count} match${count === 1 ? "" : "es"}` : "";
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.setAttribute("aria-pressed", String(paused));
    this.pauseButton.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      this.following = true;
      this.flush();
    }
    this.renderStatus();
  }

  jumpToNewest() {
    this.setPaused(false);
    this.following = true;
    this.box.scrollTop = this.box.scrollHeight;
  }

  renderStatus() {
    const parts = [];
    if (this.paused) parts.push(`paused, ${this.pending.length} new line${this.pending.length === 1 ? "" : "s"} waiting`);
    else parts.push(this.source ? "following" : "not connected");
    if (this.skipped) parts.push(`${this.skipped} lines skipped to keep up`);
    this.status.textContent = parts.join(" · ");
  }

  download() {
    const text = this.lines
      .map((line) => (this.targets.length > 1 && line.process ? `${line.process} | ${line.text}` : line.text))
      .join("\n");
    const url = URL.createObjectURL(new Blob([text + "\n"], { type: "text/plain" }));
    const link = el("a", { href: url, download: `vigil-${this.channel}.log` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}
