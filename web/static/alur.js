// Behaviour every page shares. A file, not inline handlers: the Content-Security-Policy allows no inline script.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-submit-on-change]")) {
    event.target.form.submit();
  }
});
