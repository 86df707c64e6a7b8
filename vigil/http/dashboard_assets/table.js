// The process table: one <tbody> for programs alone in their group, one per group with its
// header row (collapse, select, act on the group). Rows are made once per process and kept;
// filtering hides them, sorting re-appends them, changes fill them in place.

import { el, setText } from "./util.js";
import { fillRow, makeRow, rowTemplate, uptimeText } from "./rows.js";

const RANK = { FATAL: 0, BACKOFF: 1, UNKNOWN: 2, EXITED: 3, STARTING: 4, STOPPING: 5, RUNNING: 6, STOPPED: 7 };
const TROUBLE = new Set(["BACKOFF", "FATAL", "UNKNOWN"]);
const collator = new Intl.Collator(undefined, { numeric: true });

export function matchesState(doc, wanted) {
  if (!wanted) return true;
  if (wanted === "running") return doc.state === "RUNNING";
  if (wanted === "not-running") return doc.state !== "RUNNING";
  if (wanted === "problem") {
    return TROUBLE.has(doc.state) || (doc.state === "EXITED" && doc.last_exit && !doc.last_exit.expected);
  }
  return doc.state === wanted;
}

const num = (value) => (typeof value === "number" ? value : -1);
const SORT_KEYS = {
  name: null,
  state: (r) => RANK[r.doc.state] ?? 9,
  uptime: (r, now) => (r.doc.state === "RUNNING" && r.doc.started_at ? now - r.doc.started_at : -1),
  pid: (r) => num(r.doc.pid),
  restarts: (r) => num(r.doc.restarts),
  cpu: (r) => num(r.figures && r.figures.cpu_percent),
  memory: (r) => num(r.figures && r.figures.rss_bytes),
};

export class Table {
  constructor(store, { table, readOnly, onSelection }) {
    this.store = store;
    this.table = table;
    this.readOnly = readOnly;
    this.onSelection = onSelection;
    this.template = rowTemplate(readOnly);
    this.rows = new Map(); // namespec -> row
    this.sections = new Map(); // group name ("" for programs alone) -> section
    this.collapsed = new Set();
    this.selected = new Set();
    this.text = "";
    this.state = "";
    this.sort = { key: "name", descending: false };
    this.shown = 0;
  }

  /** Whether a group gets a header: more than one process, or one named otherwise. */
  static grouped(records, group) {
    return records.length > 1 || records[0].doc.name !== group;
  }

  /** Rebuild the sections from the store (after a full read); rows are kept and reused. */
  rebuild() {
    const byGroup = new Map();
    for (const record of this.store.processes.values()) {
      const group = record.doc.group;
      if (!byGroup.has(group)) byGroup.set(group, []);
      byGroup.get(group).push(record);
    }
    const alone = [];
    const groups = [];
    for (const [group, records] of byGroup) {
      if (Table.grouped(records, group)) groups.push([group, records]);
      else alone.push(records[0]);
    }
    groups.sort((a, b) => collator.compare(a[0], b[0]));
    for (const section of this.sections.values()) section.tbody.remove();
    this.sections = new Map();
    const now = this.store.now();
    const alive = new Set();
    const build = (key, records) => {
      const section = this.section(key, records.length);
      for (const record of records) {
        const row = this.rowFor(record.doc.namespec);
        alive.add(record.doc.namespec);
        fillRow(row, record, now);
        section.rows.push(row);
        section.tbody.append(row.tr);
      }
      this.table.append(section.tbody);
    };
    if (alone.length) build("", alone);
    for (const [group, records] of groups) build(group, records);
    for (const namespec of [...this.rows.keys()]) {
      if (!alive.has(namespec)) {
        this.rows.delete(namespec);
        this.selected.delete(namespec);
      }
    }
    this.refilter();
  }

  rowFor(namespec) {
    let row = this.rows.get(namespec);
    if (!row) {
      row = makeRow(this.template, namespec);
      this.rows.set(namespec, row);
    }
    if (row.check) row.check.checked = this.selected.has(namespec);
    return row;
  }

  section(group, size) {
    const tbody = el("tbody", group ? { "data-group": group } : { className: "alone" });
    const section = { group, tbody, rows: [], head: null, summary: null };
    if (group) {
      const collapsed = this.collapsed.has(group);
      const toggle = el(
        "button",
        { type: "button", className: "toggle", "aria-expanded": String(!collapsed), "data-col": "1" },
        el("span", { className: "chevron", "aria-hidden": "true" }),
        el("span", { text: group }),
      );
      const summary = el("span", { className: "summary" });
      const head = el("tr", { className: "group-head" });
      if (!this.readOnly) {
        head.append(el("td", { className: "c-select" }, el("input", {
          type: "checkbox", "data-col": "0", "aria-label": `Select every process of group ${group}`,
        })));
      }
      const acts = this.readOnly ? null : el(
        "span",
        { className: "group-actions" },
        ...["start", "stop", "restart"].map((verb) => el("button", {
          type: "button", "data-gact": verb, "data-col": "2", "aria-label": `${cap(verb)} group ${group}`,
        }, `${cap(verb)} group`)),
      );
      head.append(el(
        "th", { scope: "rowgroup", colspan: this.readOnly ? "9" : "9", className: "group-cell" },
        toggle, summary, acts, el("span", { className: "note" }),
      ));
      tbody.append(head);
      if (collapsed) tbody.classList.add("collapsed");
      section.head = head;
      section.summary = summary;
    }
    this.sections.set(group, section);
    return section;
  }

  /** Fill the rows that changed; re-sort when the order depends on what changed. */
  update(dirty) {
    const now = this.store.now();
    const touched = new Set();
    for (const namespec of dirty) {
      const row = this.rows.get(namespec);
      const record = this.store.processes.get(namespec);
      if (!row || !record) continue;
      const focused = document.activeElement;
      const hadFocus = focused && focused !== document.body && row.tr.contains(focused);
      fillRow(row, record, now);
      if (hadFocus && focused.hidden) row.parked = keepFocus(row, focused);
      else if (row.parked && focused === row.logs) row.parked = keepFocus(row, null);
      const hidden = !this.matches(record.doc);
      if (row.tr.hidden !== hidden) row.tr.hidden = hidden;
      touched.add(record.doc.group);
    }
    if (touched.size) this.afterChange();
  }

  /** The uptimes of running processes, once a second. */
  tick() {
    const now = this.store.now();
    for (const row of this.rows.values()) {
      if (row.state !== "RUNNING" || row.tr.hidden) continue;
      const record = this.store.processes.get(row.namespec);
      if (record) setText(row.uptime, uptimeText(record.doc, now));
    }
  }

  matches(doc) {
    if (!matchesState(doc, this.state)) return false;
    return !this.text || doc.namespec.toLowerCase().includes(this.text);
  }

  setFilter(text, state) {
    this.text = text.trim().toLowerCase();
    this.state = state;
    this.refilter();
  }

  refilter() {
    for (const row of this.rows.values()) {
      const record = this.store.processes.get(row.namespec);
      if (record) row.tr.hidden = !this.matches(record.doc);
    }
    this.afterChange();
  }

  setSort(key) {
    if (!(key in SORT_KEYS)) return;
    this.sort = { key, descending: this.sort.key === key ? !this.sort.descending : key !== "name" && key !== "state" };
    for (const th of this.table.tHead.querySelectorAll("th")) {
      const button = th.querySelector("[data-sort]");
      if (!button) continue;
      if (button.dataset.sort === key) th.setAttribute("aria-sort", this.sort.descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    }
    this.afterChange();
  }

  /** Order, section summaries, counts and the selection box, after any change. */
  afterChange() {
    const now = this.store.now();
    let shown = 0;
    for (const section of this.sections.values()) {
      this.order(section, now);
      const counts = {};
      let visible = 0;
      for (const row of section.rows) {
        counts[row.state] = (counts[row.state] || 0) + 1;
        if (!row.tr.hidden) visible += 1;
      }
      shown += visible;
      section.tbody.hidden = visible === 0;
      if (section.summary) {
        const parts = Object.entries(counts).sort().map(([state, n]) => `${n} ${state.toLowerCase()}`);
        setText(section.summary, parts.join(", "));
      }
    }
    this.shown = shown;
    this.onSelection();
  }

  order(section, now) {
    const key = SORT_KEYS[this.sort.key];
    const records = this.store.processes;
    const sign = this.sort.descending ? -1 : 1;
    const sorted = section.rows.slice().sort((a, b) => {
      if (key) {
        const ra = records.get(a.namespec);
        const rb = records.get(b.namespec);
        const diff = ra && rb ? key(ra, now) - key(rb, now) : 0;
        if (diff) return sign * diff;
      }
      return (key ? 1 : sign) * collator.compare(a.namespec, b.namespec);
    });
    if (sorted.every((row, index) => row === section.rows[index])) return;
    section.rows = sorted;
    const fragment = document.createDocumentFragment();
    for (const row of sorted) fragment.append(row.tr);
    section.tbody.append(fragment);
  }

  toggleGroup(group) {
    const section = this.sections.get(group);
    if (!section) return;
    const collapsed = !this.collapsed.has(group);
    if (collapsed) this.collapsed.add(group);
    else this.collapsed.delete(group);
    section.tbody.classList.toggle("collapsed", collapsed);
    section.head.querySelector(".toggle").setAttribute("aria-expanded", String(!collapsed));
  }

  /** Namespecs of the rows the filter shows (collapsed groups included). */
  visible(group) {
    const out = [];
    for (const section of this.sections.values()) {
      if (group !== undefined && section.group !== group) continue;
      for (const row of section.rows) if (!row.tr.hidden) out.push(row.namespec);
    }
    return out;
  }

  select(namespecs, on) {
    for (const namespec of namespecs) {
      if (on) this.selected.add(namespec);
      else this.selected.delete(namespec);
      const row = this.rows.get(namespec);
      if (row && row.check) row.check.checked = on;
    }
    this.onSelection();
  }

  note(namespec, text, failed) {
    const row = this.rows.get(namespec);
    if (!row) return;
    row.note.textContent = text;
    row.note.classList.toggle("failed", Boolean(failed));
  }

  groupNote(group, text, failed) {
    const section = this.sections.get(group);
    if (!section || !section.head) return;
    const note = section.head.querySelector(".note");
    note.textContent = text;
    note.classList.toggle("failed", Boolean(failed));
  }
}

/** A focused action button that the new state hides (Stop, once stopped) hands the focus to
 * the row's action now offered (Start), so a keyboard user is not thrown back to the top.
 * Whether the focus is parked on Logs, waiting for an action to be offered again. */
function keepFocus(row, lost) {
  const next = [row.start, row.stop, row.restart].find((button) => button && !button.hidden);
  if (next) {
    next.focus();
    return false;
  }
  // none while the process is between states (STOPPING): wait on Logs for the next one
  if (lost) row.logs.focus();
  return true;
}

function cap(word) {
  return word[0].toUpperCase() + word.slice(1);
}
