// One table row per process: built by cloning a template (the cheapest way to make many),
// then filled in place. Only text and attributes are ever set, and only when they change.

import {
  describeExit, el, formatBytes, formatDuration, formatPercent, formatWhen, setText, svgEl,
} from "./util.js";

export const STATES = ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"];
const STARTABLE = new Set(["STOPPED", "EXITED", "FATAL"]);
const STOPPABLE = new Set(["RUNNING", "STARTING", "BACKOFF"]);
const SPARK_WIDTH = 48;
const SPARK_HEIGHT = 14;

/** Which actions a process's state offers: stop in STARTING and BACKOFF too, and in FATAL
 * while a retry is pending (stopping cancels it). */
export function offered(doc) {
  return {
    start: STARTABLE.has(doc.state),
    stop: STOPPABLE.has(doc.state) || (doc.state === "FATAL" && Boolean(doc.next_attempt_at)),
    restart: doc.state === "RUNNING",
  };
}

function cell(className, label, ...children) {
  return el("td", { className, "data-label": label }, ...children);
}

export function rowTemplate(readOnly) {
  const tr = el("tr", { className: "row" });
  if (!readOnly) {
    tr.append(el("td", { className: "c-select" }, el("input", { type: "checkbox", "data-col": "0" })));
  }
  const spark = svgEl("svg", {
    class: "spark", width: String(SPARK_WIDTH), height: String(SPARK_HEIGHT),
    viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`, "aria-hidden": "true", focusable: "false",
  });
  spark.append(svgEl("polyline", { points: "" }));
  const actions = cell("c-actions", "Actions");
  if (!readOnly) {
    actions.append(
      el("button", { type: "button", "data-act": "start", "data-col": "1" }, "Start"),
      el("button", { type: "button", "data-act": "stop", "data-col": "1" }, "Stop"),
      el("button", { type: "button", "data-act": "restart", "data-col": "2" }, "Restart"),
    );
  }
  actions.append(
    el("button", { type: "button", "data-act": "logs", "data-col": "3" }, "Logs"),
    el("span", { className: "note" }),
  );
  tr.append(
    el("th", { scope: "row", className: "c-name" }, el("span", { className: "name" })),
    cell("c-state", "State", el("span", { className: "badge" }), el("span", { className: "extra" })),
    cell("c-uptime", "Uptime"),
    cell("c-pid", "PID"),
    cell("c-restarts", "Restarts"),
    cell("c-exit", "Last exit"),
    cell("c-cpu", "CPU", el("span", { className: "num" }), spark),
    cell("c-mem", "Memory"),
    actions,
  );
  return tr;
}

/** A row from the template, with its cells found once. */
export function makeRow(template, namespec) {
  const tr = template.cloneNode(true);
  tr.dataset.ns = namespec;
  const q = (selector) => tr.querySelector(selector);
  return {
    namespec,
    tr,
    check: q(".c-select input"),
    name: q(".name"),
    badge: q(".badge"),
    extra: q(".extra"),
    uptime: q(".c-uptime"),
    pid: q(".c-pid"),
    restarts: q(".c-restarts"),
    exit: q(".c-exit"),
    cpu: q(".c-cpu .num"),
    line: q("polyline"),
    mem: q(".c-mem"),
    start: q('[data-act="start"]'),
    stop: q('[data-act="stop"]'),
    restart: q('[data-act="restart"]'),
    logs: q('[data-act="logs"]'),
    note: q(".note"),
    state: "",
    sparkKey: "",
  };
}

export function uptimeText(doc, now) {
  if (doc.state !== "RUNNING" || !doc.started_at) return "—";
  return formatDuration(now - doc.started_at);
}

function exitText(doc) {
  if ((doc.state === "FATAL" || doc.state === "BACKOFF") && doc.spawn_error) return doc.spawn_error;
  if (!doc.last_exit) return "—";
  const when = doc.stopped_at ? ` at ${formatWhen(doc.stopped_at)}` : "";
  return describeExit(doc.last_exit) + when;
}

function extraText(doc) {
  const parts = [];
  // the readiness probe as configured ("tcp://127.0.0.1:8000", "notify"), null without one
  if (typeof doc.ready === "string" && doc.ready) parts.push(`ready = ${doc.ready}`);
  if (typeof doc.health === "string" && doc.health) parts.push(doc.health);
  else if (doc.health && typeof doc.health === "object" && doc.health.status) parts.push(String(doc.health.status));
  return parts.join(" · ");
}

function sparkPoints(history) {
  const values = history.filter((v) => typeof v === "number");
  if (values.length < 2) return "";
  const top = Math.max(10, ...values);
  const step = SPARK_WIDTH / (history.length - 1 || 1);
  const points = [];
  history.forEach((value, index) => {
    if (typeof value !== "number") return;
    const y = SPARK_HEIGHT - 1 - (value / top) * (SPARK_HEIGHT - 2);
    points.push(`${(index * step).toFixed(1)},${y.toFixed(1)}`);
  });
  return points.join(" ");
}

/** Bring a row up to date with its record. */
export function fillRow(row, record, now) {
  const doc = record.doc;
  setText(row.name, doc.name);
  if (row.state !== doc.state) {
    row.state = doc.state;
    row.badge.className = `badge s-${doc.state.toLowerCase()}`;
    row.badge.textContent = doc.state.toLowerCase();
    row.tr.dataset.state = doc.state;
    const can = offered(doc);
    if (row.start) {
      row.start.hidden = !can.start;
      row.stop.hidden = !can.stop;
      row.restart.hidden = !can.restart;
    }
  } else if (row.stop) {
    row.stop.hidden = !offered(doc).stop; // FATAL gains or loses its pending retry
  }
  setText(row.extra, extraText(doc));
  setText(row.uptime, uptimeText(doc, now));
  setText(row.pid, doc.pid ? String(doc.pid) : "—");
  setText(row.restarts, String(doc.restarts ?? 0));
  setText(row.exit, exitText(doc));
  const figures = record.figures || {};
  setText(row.cpu, formatPercent(figures.cpu_percent));
  setText(row.mem, formatBytes(figures.rss_bytes));
  const key = record.history.join(",");
  if (key !== row.sparkKey) {
    row.sparkKey = key;
    row.line.setAttribute("points", sparkPoints(record.history));
  }
  const label = doc.namespec;
  if (row.tr.title !== doc.description) row.tr.title = doc.description || "";
  if (row.start && row.start.getAttribute("aria-label") === null) {
    row.check.setAttribute("aria-label", `Select ${label}`);
    row.start.setAttribute("aria-label", `Start ${label}`);
    row.stop.setAttribute("aria-label", `Stop ${label}`);
    row.restart.setAttribute("aria-label", `Restart ${label}`);
  }
  if (row.logs.getAttribute("aria-label") === null) row.logs.setAttribute("aria-label", `Logs of ${label}`);
}
