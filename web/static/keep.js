// What is typed into a step's form is kept in the tab (sessionStorage) while typing, so a session that
// runs out meanwhile loses nothing: after signing in again the page puts it back. An entry is keyed by
// user and task and holds the task's version and the draft the page showed; it is put back only into
// that same version and draft (a newer draft wins), and only when the server did not echo the form.
// Files are not kept. A completion or a draft (the next page says success), or signing out, drops it.
const TYPED = "alur:typed:";
const SENT = "alur:typed-sent";

function typedValues(form) {
  const values = {};
  form.querySelectorAll("input[name], textarea[name], select[name]").forEach((control) => {
    if (control.type === "hidden" || control.type === "file") return;
    if (control.type === "radio") {
      if (!(control.name in values)) values[control.name] = "";
      if (control.checked) values[control.name] = control.value;
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
      else if (control.type !== "file" && control.type !== "hidden") control.value = value;
    });
  });
}

function keepTyped(form) {
  const key = TYPED + form.dataset.typedKey;
  const stamp = { version: form.elements.version.value, draft: form.dataset.draft };
  const save = () => sessionStorage.setItem(key, JSON.stringify({ ...stamp, values: typedValues(form) }));
  const kept = JSON.parse(sessionStorage.getItem(key) || "null");
  if (form.hasAttribute("data-typed-echoed")) {
    save();  // the form came back from the server with what was sent: that is what to keep now
  } else if (kept && kept.version === stamp.version && kept.draft === stamp.draft) {
    putBack(form, kept.values);
    document.getElementById("typed-restored").hidden = false;
  } else {
    sessionStorage.removeItem(key);
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", () => sessionStorage.setItem(SENT, key));
}

// Shortly before the idle time ends (two minutes, or half of it when shorter), the page says so and
// offers to stay signed in: any request renews the session, and a HEAD of this page changes nothing.
function warnBeforeTimeout(form, notice) {
  const idle = Number(form.dataset.idleMinutes) * 60 * 1000;
  let timer;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { notice.hidden = false; }, Math.max(idle - 120000, idle / 2));
  };
  notice.querySelector("button").addEventListener("click", () => {
    fetch(window.location.href, { method: "HEAD", credentials: "same-origin" }).then((response) => {
      if (response.redirected) {
        window.location.assign(response.url);  // already run out: sign in again, what was typed is kept
      } else if (response.ok) {
        notice.hidden = true;
        arm();
      }
    });
  });
  arm();
}

document.addEventListener("DOMContentLoaded", () => {
  // Someone else signed in in this tab (a shared computer): what the last user kept is not theirs to hold.
  const user = document.body.dataset.user;
  if (user !== undefined) {
    Object.keys(sessionStorage).filter((key) => key.startsWith(TYPED) && !key.startsWith(`${TYPED}${user}:`))
      .forEach((key) => sessionStorage.removeItem(key));
  }
  const sent = sessionStorage.getItem(SENT);
  sessionStorage.removeItem(SENT);
  if (sent && document.querySelector(".flash.success")) sessionStorage.removeItem(sent);
  const form = document.querySelector("form[data-typed-key]");
  if (form) {
    keepTyped(form);
    warnBeforeTimeout(form, document.getElementById("session-ending"));
  }
});

document.addEventListener("submit", (event) => {
  if (!event.target.matches("form[data-forget-typed]")) return;
  Object.keys(sessionStorage).filter((key) => key.startsWith("alur:typed")).forEach((key) => sessionStorage.removeItem(key));
});
