// Diagrams fitted to their box again when the window gets a new width (resized, a phone rotated).
// Only a new width: the box's height is the page's own, and a phone's address bar showing or hiding as
// the page scrolls changes the window's height, which must not undo where the user panned or zoomed.
window.alurOnNewWidth = function (refit) {
  let frame = 0;
  let fitted = window.innerWidth;
  window.addEventListener('resize', () => {
    if (window.innerWidth === fitted) return;
    fitted = window.innerWidth;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(refit);
  });
};
