// Small helpers shared by the dashboard's modules: building DOM nodes (text only, never
// markup) and formatting times and sizes.

/** An element with attributes and children; strings become text nodes, never HTML. */
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  if (attributes) {
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

export function svgEl(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  return node;
}

/** Set a node's text only when it changes: a write the layout need not redo otherwise. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** 3d 4h, 2h 05m, 4m 09s, 12s: the two largest units, as people read an uptime. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  let s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  if (days) return `${days}d ${hours}h`;
  if (hours) return `${hours}h ${two(minutes)}m`;
  if (minutes) return `${minutes}m ${two(s)}s`;
  return `${s}s`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatPercent(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)}%`;
}

/** A Unix time as local time; the date too when it is not today. */
export function formatWhen(unix) {
  if (!unix) return "";
  const when = new Date(unix * 1000);
  const now = new Date();
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (when.toDateString() === now.toDateString()) return time;
  return `${when.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

export const SIGNALS = {
  1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
  9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM",
  15: "SIGTERM",
};

/** How the last child ended, in words: "exit 1", "SIGKILL", with "(expected)" as it was. */
export function describeExit(lastExit) {
  if (!lastExit) return "—";
  const how = lastExit.signal ? SIGNALS[lastExit.signal] || `signal ${lastExit.signal}` : `exit ${lastExit.code}`;
  return lastExit.expected ? `${how} (expected)` : how;
}

export function namespecOf(group, name) {
  return group === name ? name : `${group}:${name}`;
}
