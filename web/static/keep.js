// What is typed into a form that opts in is kept in the tab (sessionStorage) while typing, so a session
// that runs out meanwhile loses nothing: after signing in again the page puts it back. The form names
// its page and record (`data-typed-key`: a task, a report's period, a user…), kept per signed-in user,
// and what was saved when the page was shown (`data-typed-stamp`: a version, a revision, a draft); it is
// put back only under the same stamp (newer saved text wins), and only when the server did not echo the
// form (`data-typed-echoed`). Passwords, hidden fields (the form's token) and files are never kept. A
// send whose next page says success, signing out, or another user signing in drops it.
const TYPED = "alur:typed:";
const SENT = "alur:typed-sent";

const kept = (control) => !["hidden", "file", "password"].includes(control.type);

// A radio group is its checked value; ticked boxes of one name, the list of their values.
function typedValues(form) {
  const values = {};
  form.querySelectorAll("input[name], textarea[name], select[name]").forEach((control) => {
    if (!kept(control)) return;
    if (control.type === "radio") {
      if (!(control.name in values)) values[control.name] = "";
      if (control.checked) values[control.name] = control.value;
    } else if (control.type === "checkbox") {
      if (!(control.name in values)) values[control.name] = [];
      if (control.checked) values[control.name].push(control.value);
    } else {
      values[control.name] = control.value;
    }
  });
  return values;
}

function putBack(form, values) {
  Object.entries(values).forEach(([name, value]) => {
    form.querySelectorAll(`[name="${CSS.escape(name)}"]`).forEach((control) => {
      if (control.type === "radio") control.checked = control.value === value;
      else if (control.type === "checkbox") control.checked = value.includes(control.value);
      else if (kept(control)) control.value = value;
    });
  });
}

function keepTyped(form, user) {
  const key = `${TYPED}${user}:${form.dataset.typedKey}`;
  const stamp = form.dataset.typedStamp || "";
  // Read when saving: a page that saves its record itself (the editor's diagram) moves the stamp on.
  const save = () => sessionStorage.setItem(key, JSON.stringify({
    stamp: form.dataset.typedStamp || "", values: typedValues(form) }));
  const keptHere = JSON.parse(sessionStorage.getItem(key) || "null");
  if (form.hasAttribute("data-typed-echoed")) {
    save();  // the form came back from the server with what was sent: that is what to keep now
  } else if (keptHere && keptHere.stamp === stamp) {
    if (JSON.stringify(typedValues(form)) !== JSON.stringify(keptHere.values)) {
      putBack(form, keptHere.values);
      const restored = document.getElementById("typed-restored");
      restored.hidden = false;
      announce(restored);  // alur.js
    }
  } else {
    sessionStorage.removeItem(key);
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", () => { save(); sessionStorage.setItem(SENT, key); });
}

// When this browser last reached the server, from any of its tabs (they share the session, and every
// request renews it): the warning counts from there, not from this page's loading.
const REACHED = "alur:reached";
const lastReached = () => Number(localStorage.getItem(REACHED)) || Date.now();
// What this page's warning does when the session was renewed (set by warnBeforeTimeout).
let sessionRenewed = () => {};

// This page reached the server as its user and so renewed the session: its loading, the warning's
// button, and a request the page sends itself (the editor's save), which reloads nothing.
function markReached() {
  localStorage.setItem(REACHED, String(Date.now()));
  sessionRenewed();
}

// Shortly before the idle time ends (two minutes, or half of it when shorter), the page says so and
// offers to stay signed in: any request renews the session, and a HEAD of this page changes nothing.
function warnBeforeTimeout(notice) {
  const idle = Number(document.body.dataset.idleMinutes) * 60 * 1000;
  const lead = Math.max(idle - 120000, idle / 2);  // from the last request to the warning
  let timer;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (Date.now() < lastReached() + lead) arm();  // another tab reached the server meanwhile
      else notice.hidden = false;
    }, Math.max(lastReached() + lead - Date.now(), 0));
  };
  // A warning shown no longer holds, and the next counts from now.
  sessionRenewed = () => {
    notice.hidden = true;
    arm();
  };
  // Another tab renewed the session.
  window.addEventListener("storage", (event) => {
    if (event.key === REACHED) sessionRenewed();
  });
  notice.querySelector("button").addEventListener("click", () => {
    fetch(window.location.href, { method: "HEAD", credentials: "same-origin" }).then((response) => {
      if (response.redirected) {
        window.location.assign(response.url);  // already run out: sign in again, what was typed is kept
      } else if (response.ok) {
        markReached();
      }
    });
  });
  arm();
}

document.addEventListener("DOMContentLoaded", () => {
  // Someone else signed in in this tab (a shared computer): what the last user kept is not theirs to hold.
  const user = document.body.dataset.user;
  if (user !== undefined) {
    markReached();  // this page's request renewed the session
    Object.keys(sessionStorage).filter((key) => key.startsWith(TYPED) && !key.startsWith(`${TYPED}${user}:`))
      .forEach((key) => sessionStorage.removeItem(key));
  }
  const sent = sessionStorage.getItem(SENT);
  sessionStorage.removeItem(SENT);
  if (sent && document.querySelector(".flash.success")) sessionStorage.removeItem(sent);
  if (user === undefined) return;
  const form = document.querySelector("form[data-typed-key]");
  if (form) keepTyped(form, user);
  // Apart from the form: the editor's diagram is typed in no form, and is lost all the same.
  const ending = document.getElementById("session-ending");
  if (ending) warnBeforeTimeout(ending);
});

document.addEventListener("submit", (event) => {
  if (!event.target.matches("form[data-forget-typed]")) return;
  Object.keys(sessionStorage).filter((key) => key.startsWith("alur:typed")).forEach((key) => sessionStorage.removeItem(key));
});
