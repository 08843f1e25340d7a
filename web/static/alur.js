// Behaviour every page shares. A file, not inline handlers: the Content-Security-Policy allows no inline script.
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=file][data-max-bytes]")) {
    sayIfTooLarge(event.target);
  }
});

// A file over the upload limit is said at its field as soon as it is chosen, and its form is not
// sent: the server refuses a request that large before reading it, so what was typed would be lost.
function tooLarge(input) {
  return Array.from(input.files || []).some((file) => file.size > Number(input.dataset.maxBytes));
}

function sayIfTooLarge(input) {
  const field = input.closest(".field") || input.parentElement;
  let note = field.querySelector(".too-large");
  if (!tooLarge(input)) {
    if (note) note.remove();
    return;
  }
  if (!note) {
    note = document.createElement("p");
    note.className = "field-error too-large";
    note.setAttribute("role", "alert");  // said when the file is chosen: the focus stays on the file button
    field.appendChild(note);
    tie(note, [input]);
  }
  note.textContent = input.dataset.tooLarge;
}

document.addEventListener("submit", (event) => {
  const large = Array.from(event.target.querySelectorAll("input[type=file][data-max-bytes]")).filter(tooLarge);
  if (large.length) {
    event.preventDefault();
    large.forEach(sayIfTooLarge);
    large[0].focus();
  }
});

// A form is sent once. A double click, or a second press while the first answer was on its way, sent
// it twice: two activities started instead of one. (Runs after the check above, on the window.)
window.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  // A page that asks before it is left (the editor with unsaved changes) may be stayed on: then the form
  // was not sent, and its button must send it later. (Added now, this runs after the page's own asking.)
  window.addEventListener("beforeunload", (leaving) => {
    if (leaving.defaultPrevented || leaving.returnValue) delete form.dataset.sent;
  }, { once: true });
});

// A page come back to from the browser's cache (the back button) may send its forms again.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) document.querySelectorAll("form[data-sent]").forEach((form) => delete form.dataset.sent);
});

// A field's error (.field-error) is tied to its control: the control is marked invalid and described by
// the message, and the first such control takes the focus, so a form sent back lands on what was wrong.
// The control is the one of the label just before the message, else those of its .field block or cell.
let errorCount = 0;

function tie(error, controls) {
  if (!error.id) error.id = `field-error-${++errorCount}`;
  controls.forEach((control) => {
    control.setAttribute("aria-invalid", "true");
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!described.includes(error.id)) control.setAttribute("aria-describedby", described.concat(error.id).join(" "));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  let first = null;
  document.querySelectorAll(".field-error").forEach((error) => {
    const before = error.previousElementSibling;
    const scope = before && before.matches("label") ? null : error.closest(".field, td");
    const controls = scope ? Array.from(scope.querySelectorAll("input:not([type=hidden]), select, textarea"))
      : [before && before.control].filter(Boolean);
    if (!controls.length) return;
    tie(error, controls);
    first = first || controls[0];
  });
  if (first) first.focus();
  const message = document.querySelector("main .flash:not([hidden])");
  if (message) announce(message);
});

// A message the page comes with ("Draf disimpan.", an error) takes the focus, so a screen reader reads it:
// a live region that already holds its text when the page loads is not said. What has the focus already
// (a field's error, above; an autofocus field) keeps it.
function announce(message) {
  if (document.activeElement && document.activeElement !== document.body) return;
  message.tabIndex = -1;
  message.focus();
}
