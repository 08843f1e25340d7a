// Behaviour every page shares. A file, not inline handlers: the Content-Security-Policy allows no inline script.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-submit-on-change]")) {
    event.target.form.submit();
  }
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
    field.appendChild(note);
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
