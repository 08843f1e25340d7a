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

  // The whole diagram in its box; on a screen too narrow for that (a phone), the diagram at MIN_ZOOM in a
  // box as large, scrolled sideways by the page's .scroll wrapper. Again whenever the window is resized
  // (a phone rotated): the box first goes back to the page's width and height.
  function fitReadable(canvas, container) {
    container.style.width = container.style.height = '';
    canvas.resized();
    if (canvas.zoom('fit-viewport') >= MIN_ZOOM) return;
    const inner = canvas.viewbox().inner;
    const pad = 12;
    container.style.width = Math.ceil(inner.width * MIN_ZOOM + 2 * pad) + 'px';
    container.style.height = Math.max(container.clientHeight, Math.ceil(inner.height * MIN_ZOOM + 2 * pad)) + 'px';
    canvas.resized();
    canvas.viewbox({ x: inner.x - pad / MIN_ZOOM, y: inner.y - pad / MIN_ZOOM,
                     width: container.clientWidth / MIN_ZOOM, height: container.clientHeight / MIN_ZOOM });
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
    // Only a new width: the box's height is the page's own, and a phone's address bar showing or hiding
    // as the page scrolls changes the window's height, which must not undo where the user panned or zoomed.
    let refit = 0;
    let fitted = window.innerWidth;
    window.addEventListener('resize', () => {
      if (window.innerWidth === fitted) return;
      fitted = window.innerWidth;
      cancelAnimationFrame(refit);
      refit = requestAnimationFrame(() => fitReadable(canvas, container));
    });
    for (const [id, entry] of Object.entries(heat)) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, 'heat-' + entry.level);
      const badge = document.createElement('div');
      badge.className = 'heat-badge heat-' + entry.level;
      badge.dataset.step = entry.step;
      badge.textContent = entry.label;
      badge.title = entry.title;
      // Never drawn smaller than screen size, so the numbers stay readable on the whole diagram.
      overlays.add(id, 'heat', { position: { top: 4, left: 4 }, scale: { min: 1, max: 1.5 }, html: badge });
    }
    container.dataset.ready = 'true';
  })();
})();
