// Keyboard use beyond Tab: "/" goes to the filter, the arrow keys move between rows (to the
// same kind of control in the row above or below), Escape closes the log viewer.

const ROW_SELECTOR = "tbody:not([hidden]) > tr:not([hidden])";

function focusables(tr) {
  return [...tr.querySelectorAll("button:not([hidden]), input")].filter((node) => !node.disabled);
}

function rowsShown(table) {
  return [...table.querySelectorAll(ROW_SELECTOR)].filter(
    (tr) => !tr.parentElement.classList.contains("collapsed") || tr.classList.contains("group-head"),
  );
}

function moveTo(tr, column) {
  const controls = focusables(tr);
  if (!controls.length) return false;
  const same = controls.find((node) => node.dataset.col === column);
  (same || controls[0]).focus();
  return true;
}

export function bindKeyboard(table) {
  const element = table.table;
  const filter = document.querySelector("#filter-text");
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, select, textarea");
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      filter.focus();
      filter.select();
    } else if (event.key === "Escape" && !document.querySelector("#logs").hidden && !document.querySelector("dialog[open]")) {
      document.querySelector("#log-close").click();
    }
  });
  filter.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown") return;
    const first = rowsShown(element).find((tr) => focusables(tr).length);
    if (first) {
      event.preventDefault();
      moveTo(first, "0");
    }
  });
  element.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const tr = event.target.closest("tbody tr");
    if (!tr) return;
    const rows = rowsShown(element);
    const step = event.key === "ArrowDown" ? 1 : -1;
    const column = event.target.dataset.col || "0";
    for (let index = rows.indexOf(tr) + step; index >= 0 && index < rows.length; index += step) {
      if (moveTo(rows[index], column)) {
        event.preventDefault();
        return;
      }
    }
  });
}
