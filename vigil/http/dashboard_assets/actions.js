// Acting: one process, a group, a selection or everything, each a POST of the JSON API.
// Stopping or restarting many (all, a group, a selection of several) asks first. Results and
// faults are shown inline, beside what was acted on, and summed up in the results line.

import { act, failuresOf } from "./api.js";
import { el } from "./util.js";

const PARALLEL = 3; // the browser keeps 6 connections per host: leave room for the streams
const KEPT_RESULTS = 4;
const PAST = { start: "started", stop: "stopped", restart: "restarted" };
const DOING = { start: "starting…", stop: "stopping…", restart: "restarting…" };

export class Actions {
  constructor(table, { results, dialog }) {
    this.table = table;
    this.results = results;
    this.dialog = dialog;
  }

  /** Ask in the dialog; resolves true only for the confirm button. */
  confirm(question, label) {
    const { dialog } = this;
    dialog.querySelector("#confirm-text").textContent = question;
    const ok = dialog.querySelector("#confirm-ok");
    const cancel = dialog.querySelector("#confirm-cancel");
    ok.textContent = label;
    const opener = document.activeElement;
    return new Promise((resolve) => {
      const done = (answer) => {
        ok.onclick = null;
        cancel.onclick = null;
        dialog.oncancel = null;
        if (dialog.open) dialog.close();
        if (opener && opener.isConnected) opener.focus();
        resolve(answer);
      };
      ok.onclick = () => done(true);
      cancel.onclick = () => done(false);
      dialog.oncancel = (event) => {
        event.preventDefault();
        done(false);
      };
      dialog.showModal();
      cancel.focus();
    });
  }

  report(text, failed) {
    const line = el("p", { className: failed ? "failed" : "done" }, text);
    this.results.prepend(line);
    while (this.results.childElementCount > KEPT_RESULTS) this.results.lastElementChild.remove();
  }

  async one(namespec, verb, button) {
    // busy, not disabled: a disabled button would lose the keyboard focus
    if (button && button.getAttribute("aria-disabled") === "true") return null;
    this.table.note(namespec, DOING[verb], false);
    if (button) button.setAttribute("aria-disabled", "true");
    try {
      await act(namespec, verb);
      this.table.note(namespec, PAST[verb], false);
      return null;
    } catch (error) {
      this.table.note(namespec, error.message, true);
      return `${namespec}: ${error.message}`;
    } finally {
      if (button) button.removeAttribute("aria-disabled");
    }
  }

  async group(group, verb) {
    if (verb !== "start") {
      const asked = await this.confirm(`${capital(verb)} every process of group ${group}?`, `${capital(verb)} group`);
      if (!asked) return;
    }
    this.table.groupNote(group, `${verb} requested…`, false);
    try {
      const failed = failuresOf(await act(`${group}:*`, verb));
      const text = failed.length ? failed.join("; ") : `group ${PAST[verb]}`;
      this.table.groupNote(group, text, failed.length > 0);
      this.report(`Group ${group}: ${text}`, failed.length > 0);
    } catch (error) {
      this.table.groupNote(group, error.message, true);
      this.report(`Group ${group}: ${error.message}`, true);
    }
  }

  async all(verb) {
    if (verb !== "start") {
      const asked = await this.confirm(`${capital(verb)} every process of this daemon?`, `${capital(verb)} all`);
      if (!asked) return;
    }
    this.report(`${capital(verb)} all: requested…`, false);
    try {
      const failed = failuresOf(await act("all", verb));
      this.report(failed.length ? `${capital(verb)} all: ${failed.join("; ")}` : `All processes ${PAST[verb]}`, failed.length > 0);
    } catch (error) {
      this.report(`${capital(verb)} all: ${error.message}`, true);
    }
  }

  async selection(namespecs, verb) {
    if (!namespecs.length) return;
    if (verb !== "start" && namespecs.length > 1) {
      const asked = await this.confirm(`${capital(verb)} the ${namespecs.length} selected processes?`, `${capital(verb)} ${namespecs.length}`);
      if (!asked) return;
    }
    const queue = namespecs.slice();
    const failed = [];
    const worker = async () => {
      while (queue.length) {
        const problem = await this.one(queue.shift(), verb, null);
        if (problem) failed.push(problem);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
    const done = namespecs.length - failed.length;
    const text = `${done} of ${namespecs.length} ${PAST[verb]}` + (failed.length ? `; ${failed.join("; ")}` : "");
    this.report(text, failed.length > 0);
  }
}

function capital(word) {
  return word[0].toUpperCase() + word.slice(1);
}
