// Renders the instance's diagram and marks completed, current and overdue steps.
(async function () {
  const container = document.getElementById('diagram');
  if (!container || !window.BpmnJS) return;
  const markers = JSON.parse(document.getElementById('markers').textContent);
  const viewer = new BpmnJS({ container });
  const response = await fetch(container.dataset.src, { credentials: 'same-origin' });
  try {
    await viewer.importXML(await response.text());
  } catch (err) {
    container.textContent = (container.dataset.error || 'Diagram tidak dapat ditampilkan:') + ' ' + err.message;
    return;
  }
  const canvas = viewer.get('canvas');
  window.alurFitReadable(canvas, container);
  for (const id of markers.completed) canvas.addMarker(id, 'step-completed');
  for (const id of markers.current) canvas.addMarker(id, 'step-current');
  for (const id of markers.overdue) canvas.addMarker(id, 'step-overdue');
  container.dataset.ready = 'true';
})();
