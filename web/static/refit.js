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

// The whole diagram in its box, with `room` screen pixels more above it (for the heat map's badges over
// the top lane's steps); on a screen too narrow for that (a phone), the diagram at MIN_ZOOM in a box as
// wide and exactly as high, scrolled sideways by the page's .scroll wrapper. Again when the window gets a new width (a phone
// rotated): the box first goes back to the page's width and height.
window.alurFitReadable = function (canvas, container, room = 0) {
  // Below this zoom a diagram's words and the heat map's badges (never drawn smaller than their size, and
  // steps are about 150 diagram units apart) cannot be read. A desktop's width fits the SOP above it.
  const MIN_ZOOM = 0.4;
  const PAD = 12; // screen pixels around the diagram
  function fit() {
    container.style.width = container.style.height = '';
    canvas.resized();
    const inner = canvas.viewbox().inner;
    // Never above its own size (as bpmn-js fits one): a small SOP is not blown up to fill the box.
    let zoom = Math.min(1, (container.clientWidth - 2 * PAD) / inner.width,
                        (container.clientHeight - 2 * PAD - room) / inner.height);
    if (zoom < MIN_ZOOM) {
      zoom = MIN_ZOOM;
      const wide = Math.ceil(inner.width * zoom + 2 * PAD);
      const high = Math.ceil(inner.height * zoom + 2 * PAD + room);
      if (container.clientWidth < wide) container.style.width = wide + 'px';
      // As high as the diagram drawn (a desktop's box left white bands above and below it on a phone).
      container.style.height = high + 'px';
      canvas.resized();
    }
    // Centred, the room above the diagram included.
    const width = container.clientWidth / zoom;
    const height = container.clientHeight / zoom;
    canvas.viewbox({ x: inner.x + inner.width / 2 - width / 2,
                     y: inner.y + inner.height / 2 - room / zoom / 2 - height / 2, width, height });
  }
  fit();
  window.alurOnNewWidth(fit);
};
