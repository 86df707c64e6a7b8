// The dashboard's entry point: reads the processes, follows the event stream, and wires the
// table, the actions, the log viewer and the daemon's header together. Everything goes
// through the JSON API; the page's <meta> tags say whether this account may act.

import { getJSON, pathOf } from "./api.js";
import { Actions } from "./actions.js";
import { DaemonInfo } from "./daemon.js";
import { Figures } from "./figures.js";
import { Live } from "./live.js";
import { LogViewer } from "./logs.js";
import { Store } from "./store.js";
import { Table } from "./table.js";
import { bindKeyboard } from "./keys.js";

const $ = (selector) => document.querySelector(selector);
const REFETCH_AFTER = 250;
const REFETCH_ONE_BY_ONE = 8; // more changed processes than this: read the whole list

const accessMeta = document.querySelector('meta[name="vigil-access"]');
const readOnly = !accessMeta || accessMeta.content !== "full";
if (readOnly) {
  document.body.classList.add("read-only");
  for (const node of document.querySelectorAll("[data-acts]")) node.remove();
}

const store = new Store();
const table = new Table(store, { table: $("#table"), readOnly, onSelection: selectionChanged });
const actions = new Actions(table, { results: $("#results"), dialog: $("#confirm") });
const dock = () => document.body.classList.toggle("docked", !$("#logs").hidden || !$("#mainlog").hidden);
const logs = new LogViewer($("#logs"), { onOpen: dock, onClose: dock });
const daemon = new DaemonInfo({
  facts: $("#daemon-facts"), name: $("#daemon-name"), panel: $("#mainlog"), onOpen: dock, onClose: dock,
});
const figures = new Figures(store);
let loaded = false;
let renders = 0;

store.subscribe((dirty, structural) => {
  if (structural) {
    const start = performance.now();
    table.rebuild();
    const built = performance.now();
    void $("#table").offsetHeight; // the layout, counted in the render time
    renders += 1;
    performance.measure(`vigil-build-${renders}`, { start, end: built });
    performance.measure(`vigil-render-${renders}`, { start, end: performance.now() });
    const empty = $("#empty");
    empty.hidden = store.processes.size > 0;
    empty.textContent = "No programs to manage";
  } else {
    table.update(dirty);
  }
  showCounts();
});

async function readAll() {
  let documents;
  try {
    documents = await getJSON("processes");
  } catch (error) {
    actions.report(`The processes could not be read: ${error.message}`, true);
    return;
  }
  store.load(documents);
  store.flushNow();
  loaded = true;
}

let rereading = 0;
function readAllSoon() {
  if (!rereading) rereading = setTimeout(() => { rereading = 0; readAll(); }, REFETCH_AFTER);
}

// After a state change, the details an event does not carry (last exit, restarts,
// description) come from the process's own document, read once the burst is over.
const stale = new Set();
let staleTimer = 0;
function refetchSoon(namespec) {
  stale.add(namespec);
  if (!staleTimer) staleTimer = setTimeout(refetch, REFETCH_AFTER);
}
function refetch() {
  staleTimer = 0;
  const namespecs = [...stale];
  stale.clear();
  if (namespecs.length > REFETCH_ONE_BY_ONE) return readAllSoon();
  for (const namespec of namespecs) {
    getJSON(`processes/${pathOf(namespec)}`).then((doc) => store.replace(doc), () => readAllSoon());
  }
}

function onEvent(event) {
  const type = event.type || "";
  if (type.startsWith("PROCESS_STATE_")) {
    if (!loaded) return;
    if (store.applyState(event)) refetchSoon(event.group === event.process ? event.process : `${event.group}:${event.process}`);
    else readAllSoon();
    daemon.changed();
  } else if (type === "PROCESS_GROUP_ADDED" || type === "PROCESS_GROUP_REMOVED" || type === "PROCESS_GROUP_SCALED") {
    // a group came or went, or instances of one did (a scale): the list is read again
    readAllSoon();
    daemon.changed();
  } else if (type.startsWith("SUPERVISOR_STATE_CHANGE")) {
    daemon.refresh();
  }
}

const banner = $("#banner");
const live = new Live({
  onEvent,
  onResync: (why) => {
    readAll();
    if (why !== "missed" || !loaded) daemon.restarted();
    else daemon.refresh();
  },
  onConnected: (first) => {
    banner.hidden = true;
    document.body.classList.remove("offline");
    if (first) readAll();
    daemon.refresh();
  },
  onLost: () => {
    banner.textContent = "The connection to the daemon is lost; reconnecting… (what is shown may be out of date)";
    banner.hidden = false;
    document.body.classList.add("offline");
    if (!loaded) readAll();
  },
});

function showCounts() {
  const total = store.processes.size;
  let running = 0;
  for (const record of store.processes.values()) if (record.doc.state === "RUNNING") running += 1;
  $("#counts").textContent = `${table.shown} shown of ${total} · ${running} running`;
}

function selectionChanged() {
  if (readOnly) return;
  const count = table.selected.size;
  $("#selection-count").textContent = `${count} selected`;
  for (const button of document.querySelectorAll("[data-bulk]")) button.disabled = count === 0;
  const visible = table.visible();
  const chosen = visible.filter((namespec) => table.selected.has(namespec)).length;
  const box = $("#select-visible");
  box.checked = visible.length > 0 && chosen === visible.length;
  box.indeterminate = chosen > 0 && chosen < visible.length;
  for (const section of table.sections.values()) {
    const check = section.head && section.head.querySelector("input[type=checkbox]");
    if (!check) continue;
    const mine = section.rows.filter((row) => table.selected.has(row.namespec)).length;
    check.checked = mine > 0 && mine === section.rows.length;
    check.indeterminate = mine > 0 && mine < section.rows.length;
  }
  showCounts();
}

function bindTable() {
  const element = $("#table");
  element.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const tr = button.closest("tr");
    const group = tr && tr.parentElement.dataset.group;
    if (button.dataset.sort) table.setSort(button.dataset.sort);
    else if (button.dataset.act === "logs") logs.open([tr.dataset.ns]);
    else if (button.dataset.act) actions.one(tr.dataset.ns, button.dataset.act, button);
    else if (button.dataset.gact) actions.group(group, button.dataset.gact);
    else if (button.classList.contains("toggle")) table.toggleGroup(group);
  });
  element.addEventListener("change", (event) => {
    const box = event.target;
    if (box.type !== "checkbox") return;
    const tr = box.closest("tr");
    if (box.id === "select-visible") table.select(table.visible(), box.checked);
    else if (tr.classList.contains("group-head")) table.select(table.visible(tr.parentElement.dataset.group), box.checked);
    else table.select([tr.dataset.ns], box.checked);
  });
}

function bindToolbar() {
  let pending = 0;
  const filter = () => {
    pending = 0;
    table.setFilter($("#filter-text").value, $("#filter-state").value);
    selectionChanged();
  };
  const soon = () => { if (!pending) pending = requestAnimationFrame(filter); };
  $("#filter-text").addEventListener("input", soon);
  $("#filter-state").addEventListener("change", soon);
  for (const button of document.querySelectorAll("[data-bulk]")) {
    button.addEventListener("click", () => {
      const chosen = table.visible().filter((namespec) => table.selected.has(namespec));
      const verb = button.dataset.bulk;
      if (verb === "logs") logs.open(chosen);
      else actions.selection(chosen, verb);
    });
  }
  for (const button of document.querySelectorAll("[data-all]")) {
    button.addEventListener("click", () => actions.all(button.dataset.all));
  }
}

bindTable();
bindToolbar();
bindKeyboard(table);
daemon.render();
live.start();
figures.start();
setInterval(() => {
  if (document.hidden) return;
  table.tick();
  daemon.tick();
}, 1000);
