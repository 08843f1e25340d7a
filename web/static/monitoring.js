// The monitoring dashboard: Chart.js charts beside their tables, and the heat map
// on the SOP diagram (bpmn-js overlays keyed by element id). All numbers and
// labels come formatted from the server; this only draws.
(function () {
  const charts = JSON.parse(document.getElementById('chart-data').textContent);
  const colours = { blue: '#0b5cad', grey: 'rgba(154, 165, 177, 0.45)' };

  function percentAxis() {
    return { min: 0, max: 100, ticks: { callback: (v) => v + '%' } };
  }

  if (window.Chart) {
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    const bar = (id, data) => {
      const canvas = document.getElementById(id);
      if (!canvas) return;
      new Chart(canvas, {
        type: 'bar',
        data: { labels: data.labels,
                datasets: [{ label: data.label, data: data.values, backgroundColor: colours.blue }] },
        options: { scales: { y: percentAxis() }, plugins: { legend: { display: false } } },
      });
      canvas.dataset.ready = 'true';
    };
    bar('chart-steps', charts.steps);
    bar('chart-bidang', charts.bidang);
    const trend = document.getElementById('chart-trend');
    if (trend) {
      new Chart(trend, {
        data: {
          labels: charts.trend.labels,
          datasets: [
            { type: 'line', label: charts.trend.label, data: charts.trend.values, borderColor: colours.blue,
              backgroundColor: colours.blue, spanGaps: true, yAxisID: 'y' },
            { type: 'bar', label: charts.trend.count_label, data: charts.trend.counts,
              backgroundColor: colours.grey, yAxisID: 'count' },
          ],
        },
        options: { scales: { y: percentAxis(), count: { position: 'right', beginAtZero: true, grid: { display: false } } } },
      });
      trend.dataset.ready = 'true';
    }
  }

  // Below this zoom the badges, never drawn smaller than their size, cover one another (steps are about
  // 150 diagram units apart). A desktop's width fits the SOP above it.
  const MIN_ZOOM = 0.4;

  // Screen pixels around the diagram, and above it for the badges drawn over the top lane's steps.
  const PAD = 12;
  const BADGE_ROOM = 36;

  // The whole diagram in its box; on a screen too narrow for that (a phone), the diagram at MIN_ZOOM in a
  // box as large, scrolled sideways by the page's .scroll wrapper. Again whenever the window is resized
  // (a phone rotated): the box first goes back to the page's width and height.
  function fitReadable(canvas, container) {
    container.style.width = container.style.height = '';
    canvas.resized();
    const inner = canvas.viewbox().inner;
    let zoom = Math.min((container.clientWidth - 2 * PAD) / inner.width,
                        (container.clientHeight - 2 * PAD - BADGE_ROOM) / inner.height);
    if (zoom < MIN_ZOOM) {
      zoom = MIN_ZOOM;
      const wide = Math.ceil(inner.width * zoom + 2 * PAD);
      const high = Math.ceil(inner.height * zoom + 2 * PAD + BADGE_ROOM);
      if (container.clientWidth < wide) container.style.width = wide + 'px';
      if (container.clientHeight < high) container.style.height = high + 'px';
      canvas.resized();
    }
    // Centred, the room for the badges above the diagram included.
    const width = container.clientWidth / zoom;
    const height = container.clientHeight / zoom;
    canvas.viewbox({ x: inner.x + inner.width / 2 - width / 2,
                     y: inner.y + inner.height / 2 - BADGE_ROOM / zoom / 2 - height / 2, width, height });
  }

  (async function heatmap() {
    const container = document.getElementById('heatmap');
    if (!container || !window.BpmnJS) return;
    const heat = JSON.parse(document.getElementById('heatmap-data').textContent);
    const viewer = new BpmnJS({ container });
    try {
      const response = await fetch(container.dataset.src, { credentials: 'same-origin' });
      await viewer.importXML(await response.text());
    } catch (err) {
      container.textContent = (container.dataset.error || 'Diagram tidak dapat ditampilkan:') + ' ' + err.message;
      return;
    }
    const canvas = viewer.get('canvas');
    const overlays = viewer.get('overlays');
    const registry = viewer.get('elementRegistry');
    fitReadable(canvas, container);
    window.alurOnNewWidth(() => fitReadable(canvas, container));
    for (const [id, entry] of Object.entries(heat)) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, 'heat-' + entry.level);
      const badge = document.createElement('div');
      badge.className = 'heat-badge heat-' + entry.level;
      badge.dataset.step = entry.step;
      badge.textContent = entry.label;
      badge.title = entry.title;
      // Never drawn smaller than screen size, so the numbers stay readable on the whole diagram; above the
      // step's top edge (.heat-badge lifts it by its own height), off the step's name, which a long name
      // writes a little past that edge.
      overlays.add(id, 'heat', { position: { top: -12, left: 0 }, scale: { min: 1, max: 1.5 }, html: badge });
    }
    container.dataset.ready = 'true';
  })();
})();
